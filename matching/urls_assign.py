from django.urls import path

from . import views_assign as views

urlpatterns = [
    path("mentees/<int:pk>/suggestions/", views.suggestions, name="suggestions"),
    path("mentees/<int:pk>/assign/", views.assign, name="assign"),
    path("mentees/<int:pk>/exclusions/", views.exclusions, name="exclusions"),
    path("exclusions/<int:pk>/delete/", views.exclusion_delete, name="exclusion_delete"),
]
