from django.urls import path

from . import views_import as views

urlpatterns = [
    path("", views.import_upload, name="import_upload"),
    path("confirm/", views.import_confirm, name="import_confirm"),
]
