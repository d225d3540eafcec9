from django.urls import path

from . import views_support as views

urlpatterns = [
    path("", views.support_list, name="support_list"),
    path("new/", views.support_create, name="support_create"),
    path("<int:pk>/edit/", views.support_edit, name="support_edit"),
    path("<int:pk>/delete/", views.support_delete, name="support_delete"),
]
