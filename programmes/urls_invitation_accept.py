from django.urls import path

from . import views_invitations as views

urlpatterns = [
    path("<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("<str:token>/new-link/", views.invitation_request_link, name="invitation_request_link"),
]
