from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "mentoring"
    verbose_name = "Mentoring"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
