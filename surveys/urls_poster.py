from django.urls import path

from . import views_poster as views

urlpatterns = [
    path("<str:code>/", views.poster, name="poster"),
    path("<str:code>/sent/", views.poster_sent, name="poster_sent"),
]
