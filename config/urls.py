from django.urls import include, path

from accounts import views as account_views
from config.views import healthz
from programmes import views as programme_views

urlpatterns = [
    path("", programme_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Before allauth's own, which it wraps.
    path("accounts/login/", account_views.login, name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("o/<slug:organisation_slug>/", include("programmes.urls")),
    path("o/<slug:organisation_slug>/mentoring/", include("mentoring.urls")),
    path("o/<slug:organisation_slug>/matching/", include("matching.urls")),
    path("o/<slug:organisation_slug>/surveys/", include("surveys.urls")),
    path("o/<slug:organisation_slug>/evaluation/", include("evaluation.urls")),
    path("o/<slug:organisation_slug>/privacy/", include("privacy.urls")),
    path("invitations/", include("programmes.urls_invitation_accept")),
    path("apply/", include("programmes.urls_apply")),
    # Single-use links for people without an account: signing an agreement, and a line
    # manager marking priority domains.
    path("agreements/", include("mentoring.urls_agreement_sign")),
    path("line-manager/", include("mentoring.urls_line_manager")),
    # Survey links and the poster page, outside /o/ because no sign-in is needed.
    path("", include("surveys.urls_public")),
]
