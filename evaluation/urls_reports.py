from django.urls import path

from . import reports
from . import views_reports as views

PROGRAMME = "<int:programme_pk>/"

# One page per registered report, named after it (evaluation:outcomes, evaluation:cohort, …).
urlpatterns = [
    path(f"{PROGRAMME}{spec.key}/", views.report_page, {"report": spec.key}, name=spec.key)
    for spec in reports.specs()
]
