from django.urls import path

from . import views_reports as views

urlpatterns = [
    path("<int:programme_pk>/outcomes/", views.outcomes_report, name="outcomes"),
]
