from django.urls import include, path

app_name = "mentoring"

urlpatterns = [
    path("", include("mentoring.urls_intake")),
    path("import/", include("mentoring.urls_import")),
    path("people/", include("mentoring.urls_people")),
    path("relationships/", include("mentoring.urls_relationships")),
    # The relationship's papers, each area in its own module.
    path("relationships/", include("mentoring.urls_stages")),
    path("relationships/", include("mentoring.urls_agreements")),
    path("relationships/", include("mentoring.urls_sessions")),
    path("capability/", include("mentoring.urls_capability")),
    path("support/", include("mentoring.urls_support")),
]
