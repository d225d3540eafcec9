from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "programmes"
    verbose_name = "Organisations and programmes"

    def ready(self) -> None:
        from . import freshness

        freshness.connect()
