from django.urls import path

from . import views_capability as views

MENTEE = "mentees/<int:mentee_pk>/"
FRAMEWORK = "programmes/<int:programme_pk>/framework/"

urlpatterns = [
    path("", views.capability_home, name="capability_home"),
    path(MENTEE, views.capability_overview, name="capability_overview"),
    path(f"{MENTEE}new/", views.capability_assess, name="capability_assess"),
    path(
        f"{MENTEE}assessments/<int:pk>/", views.capability_assessment, name="capability_assessment"
    ),
    path(f"{MENTEE}priorities/", views.capability_priorities, name="capability_priorities"),
    path(
        f"{MENTEE}ask-line-manager/",
        views.capability_ask_line_manager,
        name="capability_ask_line_manager",
    ),
    path(FRAMEWORK, views.capability_framework, name="capability_framework"),
    path(f"{FRAMEWORK}<int:pk>/edit/", views.capability_edit, name="capability_edit"),
    path(f"{FRAMEWORK}<int:pk>/remove/", views.capability_remove, name="capability_remove"),
]
