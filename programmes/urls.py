from django.urls import include, path

from . import views

app_name = "programmes"

urlpatterns = [
    path("", views.organisation_home, name="home"),
    path("trusts/", views.trust_list, name="trust_list"),
    path("trusts/new/", views.trust_edit, name="trust_create"),
    path("trusts/<int:pk>/edit/", views.trust_edit, name="trust_edit"),
    path("people/", views.people, name="people"),
    path("audit/", views.audit_trail, name="audit"),
    path("programmes/", include("programmes.urls_programmes")),
    path("programmes/", include("programmes.urls_applications")),
    path("invitations/", include("programmes.urls_invitations")),
]
