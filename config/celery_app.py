"""The Celery application.

Tasks that touch tenant data subclass :class:`OrganisationTask`: they take the
organisation's primary key, re-enter its scope, and so can never read another
tenant's rows by accident.
"""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("mentoring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class OrganisationTask(Task):
    """A task whose first argument is an organisation id; it runs inside that scope."""

    abstract = True

    def __call__(self, organisation_id: int, *args, **kwargs):
        from django_scopes import scope

        from programmes.models import Organisation

        organisation = Organisation.objects.get(pk=organisation_id)
        with scope(organisation=organisation):
            return super().__call__(organisation, *args, **kwargs)
