"""Sign-in pages around django-allauth's views."""

from allauth.account import views as allauth_views

from programmes import fragments


def login(request, *args, **kwargs):
    """allauth's sign-in page. Its blank form looks the same to everyone not signed in,
    so it is kept in the cache (``programmes.fragments.view_kept_for_anyone``) with each
    reader's own CSRF token; signing in (the form sent) is always allauth's."""
    return fragments.view_kept_for_anyone(request, "sign-in", allauth_views.login, *args, **kwargs)
