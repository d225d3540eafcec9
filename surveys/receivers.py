"""Surveys' side of things that happen in ``programmes``.

``programmes`` never imports this app; these receivers run inside the sender's
transaction, so a failure rolls the programme's creation back.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from programmes.models import Programme

from .instruments import add_default_instruments


@receiver(post_save, sender=Programme, dispatch_uid="surveys.add_default_instruments")
def give_new_programme_default_instruments(sender, instance, created, raw=False, **kwargs) -> None:
    """A new programme starts with the default survey instruments, ready to edit."""
    if created and not raw:
        add_default_instruments(instance)
