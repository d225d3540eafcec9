from django.urls import path

from . import views_people as views

urlpatterns = [
    path("<int:user_pk>/", views.person, name="person"),
]
