from django.urls import path

from . import views_exports as views

PROGRAMME = "<int:programme_pk>/"
EXPORT = f"{PROGRAMME}<int:pk>/"

urlpatterns = [
    path(PROGRAMME, views.export_list, name="export_list"),
    path(EXPORT, views.export_detail, name="export_detail"),
    path(f"{EXPORT}status/", views.export_status, name="export_status"),
    path(f"{EXPORT}xlsx/", views.export_download, {"kind": "xlsx"}, name="export_xlsx"),
    path(f"{EXPORT}csv/", views.export_download, {"kind": "csv"}, name="export_csv"),
]
