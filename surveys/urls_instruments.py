from django.urls import path

from . import views_instruments as views

# Under o/<slug>/surveys/instruments/ in the surveys namespace.
INSTRUMENT = "<int:pk>/"
VERSION = f"{INSTRUMENT}versions/<int:number>/"
SECTION = f"{INSTRUMENT}sections/<int:section_pk>/"
QUESTION = f"{INSTRUMENT}questions/<int:question_pk>/"

urlpatterns = [
    path("", views.instrument_list, name="instrument_list"),
    path(INSTRUMENT, views.instrument_detail, name="instrument_detail"),
    path(f"{INSTRUMENT}edit/", views.instrument_edit, name="instrument_edit"),
    path(VERSION, views.instrument_version, name="instrument_version"),
    path(f"{VERSION}preview/", views.instrument_preview, name="instrument_preview"),
    path(f"{INSTRUMENT}sections/add/", views.section_add, name="section_add"),
    path(f"{SECTION}edit/", views.section_edit, name="section_edit"),
    path(f"{SECTION}delete/", views.section_delete, name="section_delete"),
    path(f"{SECTION}questions/add/", views.question_add, name="question_add"),
    path(f"{QUESTION}edit/", views.question_edit, name="question_edit"),
    path(f"{QUESTION}delete/", views.question_delete, name="question_delete"),
]
