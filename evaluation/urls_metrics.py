from django.urls import path  # noqa: F401

from . import views_metrics as views  # noqa: F401

# Organisational metrics, the programme's baseline date and retention comparison groups.
urlpatterns: list = []
