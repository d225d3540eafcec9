import logging
import time
import uuid

from django.urls import Resolver404, resolve

logger = logging.getLogger("mentoring.request")

TOKEN_MASK = "[token]"  # noqa: S105 - the mask put in place of a token, not a secret


def mask_token(path: str) -> str:
    """The path with its link token, if it carries one, replaced by the mask."""
    try:
        token = resolve(path).kwargs.get("token")
    except Resolver404:
        return path
    return path.replace(token, TOKEN_MASK) if token else path


def loggable_path(request) -> str:
    """The request's path with any link token masked, for logs and the audit trail.

    A token in a path (a survey, agreement, line manager or invitation link) is as good
    as a password until it is used, so it is never written down.
    """
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if token:
        return request.path.replace(token, TOKEN_MASK)
    return request.path


class RequestLogMiddleware:
    """One structured log line per request: method, path, status, duration, request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": loggable_path(request),
                "status": response.status_code,
                "duration_ms": elapsed_ms,
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "organisation": getattr(getattr(request, "organisation", None), "slug", None),
            },
        )
        response["X-Request-ID"] = request.request_id
        return response
