from django.urls import path

from . import views_respond as views

# Under s/ in the survey_public namespace. The token URL is only ever an entry point:
# it puts the invitation into the session and redirects to i/<pk>/.
INVITATION = "i/<int:invitation_pk>/"

urlpatterns = [
    path("new-link/", views.respond_ask_link, name="respond_ask_link"),
    path(INVITATION, views.respond_start, name="respond"),
    path(f"{INVITATION}page/<int:page>/", views.respond_page, name="respond_page"),
    path(f"{INVITATION}finish/", views.respond_finish, name="respond_finish"),
    path(f"{INVITATION}done/", views.respond_done, name="respond_done"),
    path(f"{INVITATION}new-link/", views.respond_session_new_link, name="respond_session_new_link"),
    path("<str:token>/", views.respond_link, name="respond_token"),
    path("<str:token>/new-link/", views.respond_new_link, name="respond_new_link"),
]
