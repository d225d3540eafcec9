import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import SESSION_STARTED_KEY, SESSION_TOUCHED_KEY


@receiver(user_logged_in)
def stamp_session_start(sender, request, user, **kwargs) -> None:
    now = int(time.time())
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_TOUCHED_KEY] = now
