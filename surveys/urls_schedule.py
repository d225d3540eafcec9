from django.urls import path

from . import views_schedule as views

PROGRAMME = "<int:programme_pk>/"
RULE = f"{PROGRAMME}rules/<int:pk>/"

urlpatterns = [
    # The schedule: which survey goes to whom, when, with which reminders.
    path(PROGRAMME, views.schedule, name="schedule"),
    path(f"{PROGRAMME}rules/new/", views.schedule_rule_create, name="schedule_rule_create"),
    path(f"{RULE}edit/", views.schedule_rule_edit, name="schedule_rule_edit"),
    path(f"{RULE}deactivate/", views.schedule_rule_deactivate, name="schedule_rule_deactivate"),
    path(f"{RULE}activate/", views.schedule_rule_activate, name="schedule_rule_activate"),
    path(f"{PROGRAMME}standard/", views.schedule_standard, name="schedule_standard"),
    # What each wave has produced: invited, opened, completed, overdue; resend one.
    path(f"{PROGRAMME}waves/", views.waves, name="waves"),
    path(f"{PROGRAMME}waves/<slug:wave>/", views.wave_detail, name="wave_detail"),
    path(
        f"{PROGRAMME}invitations/<int:pk>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
]
