from django.urls import path

from . import reports
from . import views_reports as views

PROGRAMME = "<int:programme_pk>/"
FILE = f"{PROGRAMME}<slug:report>/<slug:fmt>/"

urlpatterns = [
    path(PROGRAMME, views.report_index, name="report_index"),
    # One page per registered report, named after it (evaluation:outcomes, …).
    *(
        path(f"{PROGRAMME}{spec.key}/", views.report_page, {"report": spec.key}, name=spec.key)
        for spec in reports.specs()
    ),
    path(FILE, views.report_file, name="report_file"),
    path(f"{FILE}status/", views.report_file_status, name="report_file_status"),
]
