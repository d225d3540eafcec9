from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    # The monthly anonymised export of each programme: built, listed, downloaded.
    path("exports/", include("evaluation.urls_exports")),
    # Reports: each registered report's page, its PDF and .xlsx.
    path("reports/", include("evaluation.urls_reports")),
    # Organisational metrics, the baseline date and comparison groups.
    path("metrics/", include("evaluation.urls_metrics")),
]
