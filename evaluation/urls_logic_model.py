from django.urls import path

from . import views_logic_model as views

PROGRAMME = "<int:programme_pk>/"
ENTRY = f"{PROGRAMME}<int:pk>/"

urlpatterns = [
    path(PROGRAMME, views.logic_model_edit, name="logic_model_edit"),
    path(f"{PROGRAMME}template/", views.logic_model_template, name="logic_model_template"),
    path(f"{ENTRY}change/", views.logic_model_entry_edit, name="logic_model_entry_edit"),
    path(f"{ENTRY}delete/", views.logic_model_entry_delete, name="logic_model_entry_delete"),
    path(f"{ENTRY}move/", views.logic_model_entry_move, name="logic_model_entry_move"),
]
