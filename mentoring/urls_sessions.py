"""The session log and session records of a relationship, and the mentor's revalidation
evidence. Included under ``relationships/``."""

from django.urls import path

from . import views_sessions as views

urlpatterns = [
    path("<int:pk>/sessions/", views.sessions_log, name="sessions_log"),
    path("<int:pk>/sessions/add/", views.sessions_log_add, name="sessions_log_add"),
    path(
        "<int:pk>/sessions/<int:log_pk>/edit/",
        views.sessions_log_edit,
        name="sessions_log_edit",
    ),
    path(
        "<int:pk>/sessions/<int:log_pk>/delete/",
        views.sessions_log_delete,
        name="sessions_log_delete",
    ),
    path("<int:pk>/sessions/records/", views.sessions_record_list, name="sessions_record_list"),
    path("<int:pk>/sessions/records/add/", views.sessions_record_add, name="sessions_record_add"),
    path(
        "<int:pk>/sessions/records/<int:record_pk>/",
        views.sessions_record_detail,
        name="sessions_record_detail",
    ),
    path(
        "<int:pk>/sessions/records/<int:record_pk>/edit/",
        views.sessions_record_edit,
        name="sessions_record_edit",
    ),
    path(
        "<int:pk>/sessions/records/<int:record_pk>/delete/",
        views.sessions_record_delete,
        name="sessions_record_delete",
    ),
    path("revalidation/", views.sessions_revalidation, name="sessions_revalidation"),
]
