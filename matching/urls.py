from django.urls import include, path

app_name = "matching"

urlpatterns = [
    # The assigned model: a lead nurse's ranked suggestions, exclusions, rematch.
    path("", include("matching.urls_assign")),
    # The cohort model: whole-cohort drafts, reviewed and published by an admin.
    path("cohorts/", include("matching.urls_cohort")),
    # Mentee choice and hybrid: requests to mentors, shortlists.
    path("choose/", include("matching.urls_choice")),
]
