from django.urls import path

from . import views_invitations as views

urlpatterns = [
    path("", views.invitation_list, name="invitation_list"),
    path("new/", views.invitation_create, name="invitation_create"),
    path("<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]
