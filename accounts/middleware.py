import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

SESSION_STARTED_KEY = "session_started_at"
SESSION_TOUCHED_KEY = "session_touched_at"


class SessionLifetimeMiddleware:
    """Sign out after SESSION_IDLE_SECONDS without a request, or SESSION_ABSOLUTE_SECONDS in all.

    Django alone gives one of the two limits; personal data needs both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.get(SESSION_STARTED_KEY, now)
            touched = request.session.get(SESSION_TOUCHED_KEY, now)
            if (
                now - touched > settings.SESSION_IDLE_SECONDS
                or now - started > settings.SESSION_ABSOLUTE_SECONDS
            ):
                logout(request)
                messages.info(
                    request, "You were signed out to keep personal data safe. Sign in again."
                )
            else:
                request.session.setdefault(SESSION_STARTED_KEY, started)
                # Writing on every request would cost a database write each time;
                # a minute's resolution is enough for a 30-minute limit.
                if now - touched >= 60 or SESSION_TOUCHED_KEY not in request.session:
                    request.session[SESSION_TOUCHED_KEY] = now
        return self.get_response(request)
