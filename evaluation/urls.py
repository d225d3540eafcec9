from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    # The monthly anonymised export of each programme: built, listed, downloaded.
    path("exports/", include("evaluation.urls_exports")),
    # Reports: baseline versus follow-up.
    path("reports/", include("evaluation.urls_reports")),
]
