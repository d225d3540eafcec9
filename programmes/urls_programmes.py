from django.urls import path

from . import views_programmes as views

COHORT = "<int:programme_pk>/cohorts/<int:pk>/"
MILESTONE = "<int:programme_pk>/cohorts/<int:cohort_pk>/milestones/<int:pk>/"

urlpatterns = [
    path("", views.programme_list, name="programme_list"),
    path("new/", views.programme_create, name="programme_create"),
    path("<int:pk>/", views.programme_detail, name="programme_detail"),
    path("<int:pk>/edit/", views.programme_edit, name="programme_edit"),
    path("<int:pk>/criteria/", views.programme_criteria, name="programme_criteria"),
    path("<int:pk>/timeline/", views.programme_timeline, name="programme_timeline"),
    path("<int:programme_pk>/cohorts/new/", views.cohort_create, name="cohort_create"),
    path(COHORT, views.cohort_detail, name="cohort_detail"),
    path(f"{COHORT}edit/", views.cohort_edit, name="cohort_edit"),
    path(
        f"{COHORT}standard-timeline/",
        views.cohort_standard_timeline,
        name="cohort_standard_timeline",
    ),
    path(
        f"{COHORT}not-done-orientation/",
        views.cohort_orientation_outstanding,
        name="cohort_orientation_outstanding",
    ),
    path(
        "<int:programme_pk>/cohorts/<int:cohort_pk>/milestones/new/",
        views.milestone_create,
        name="milestone_create",
    ),
    path(f"{MILESTONE}edit/", views.milestone_edit, name="milestone_edit"),
    path(f"{MILESTONE}delete/", views.milestone_delete, name="milestone_delete"),
    path(f"{MILESTONE}attendance/", views.milestone_attendance, name="milestone_attendance"),
]
