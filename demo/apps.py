from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Fictional demo data across every app (`manage.py seed_demo`). Nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
