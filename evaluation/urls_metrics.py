from django.urls import path

from . import views_metrics as views

# Organisational metrics, the programme's baseline date and retention comparison groups.
PROGRAMME = "<int:programme_pk>/"
GROUP = f"{PROGRAMME}groups/<int:pk>/"

urlpatterns = [
    path(PROGRAMME, views.metrics_list, name="metrics_list"),
    path(f"{PROGRAMME}baseline/", views.metrics_baseline, name="metrics_baseline"),
    path(f"{PROGRAMME}enter/", views.metrics_enter, name="metrics_enter"),
    path(f"{PROGRAMME}import/", views.metrics_import, name="metrics_import"),
    path(
        f"{PROGRAMME}import/confirm/", views.metrics_import_confirm, name="metrics_import_confirm"
    ),
    path(f"{PROGRAMME}groups/new/", views.comparison_create, name="comparison_create"),
    path(GROUP, views.comparison_detail, name="comparison_detail"),
    path(f"{GROUP}add/", views.comparison_member_add, name="comparison_member_add"),
    path(f"{GROUP}import/", views.comparison_import, name="comparison_import"),
    path(
        f"{GROUP}import/confirm/",
        views.comparison_import_confirm,
        name="comparison_import_confirm",
    ),
    path(f"{GROUP}delete/", views.comparison_delete, name="comparison_delete"),
]
