from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from mentoring import panels

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .shared import shared_for_relationship

        # The responses a mentee shared with their mentor, on the relationship page.
        panels.register(shared_for_relationship, "surveys/responses/_relationship_shared.html")
