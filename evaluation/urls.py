from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    # The monthly anonymised export of each programme: built, listed, downloaded.
    path("exports/", include("evaluation.urls_exports")),
    # Reports: each registered report's page, its PDF and .xlsx.
    path("reports/", include("evaluation.urls_reports")),
    # Building the logic model (reading it is a report).
    path("logic-model/", include("evaluation.urls_logic_model")),
    # Organisational metrics, the baseline date and comparison groups.
    path("metrics/", include("evaluation.urls_metrics")),
]
