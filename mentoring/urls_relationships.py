from django.urls import path

from . import views_relationships as views

urlpatterns = [
    path("", views.relationship_list, name="relationship_list"),
    path("<int:pk>/", views.relationship_detail, name="relationship_detail"),
    path("<int:pk>/end/", views.relationship_end, name="relationship_end"),
]
