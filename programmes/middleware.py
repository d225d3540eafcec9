from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django_scopes import scope

from . import freshness
from .access import Access

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class OrganisationMiddleware:
    """Resolve ``/o/<organisation_slug>/`` once, check membership, run the view in its scope.

    A slug that does not exist and one the person does not belong to give the same
    404. Outside organisation URLs no scope is active, so any query on a
    tenant-owned model raises.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = None
        request.access = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("organisation_slug")
        if slug is None:
            return self.get_response(request)

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())

        access = Access.for_user(request.user, slug)
        if access is None:
            raise Http404("No such organisation.")
        organisation = access.organisation
        if not access.two_factor_satisfied:
            messages.warning(
                request,
                "Your role gives you access to personal data, so you must set up "
                "two-factor authentication before you continue.",
            )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")

        request.organisation = organisation
        request.access = access
        with scope(organisation=organisation):
            return self.get_response(request)


class DataChangeMiddleware:
    """After a request in an organisation that may have written (POST and the other
    unsafe methods), pages cached from the organisation's data are no longer served
    (``programmes.freshness``): this catches bulk updates, which send no signal.

    Requests outside organisations (a survey answered by link, signing in) are left to
    the signals of the rows they save, so that a survey answered in one organisation
    does not make every organisation's pages be worked out again.

    It sits outside OrganisationMiddleware, so it runs after the view's writes are
    committed and knows which organisation the request ran in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        organisation = getattr(request, "organisation", None)
        if request.method not in SAFE_METHODS and organisation is not None:
            freshness.changed(organisation)
        return response
