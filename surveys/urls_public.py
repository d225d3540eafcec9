from django.urls import include, path

app_name = "survey_public"

urlpatterns = [
    # A person answering by their link (no sign-in).
    path("s/", include("surveys.urls_respond")),
    # The poster's page: asks for a work e-mail address and sends the personal link.
    path("survey-poster/", include("surveys.urls_poster")),
]
