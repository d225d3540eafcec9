from django_scopes import scopes_disabled

from programmes.models import Invitation, Role

from . import ADMIN, Case


def pending_invitation(cast, side) -> Invitation:
    """A pending invitation in the home or the other organisation, made once per cast."""
    attribute = f"_pending_invitation_{side}"
    if getattr(cast, attribute, None) is None:
        organisation = cast.org if side == "home" else cast.other_org
        with scopes_disabled():
            invitation = Invitation.objects.create(
                organisation=organisation,
                email=f"invited.{side}@example.test",
                full_name=f"Invited {side.title()}",
                role=Role.MENTOR,
            )
        setattr(cast, attribute, invitation)
    return getattr(cast, attribute)


def _invitation_kwargs(cast, side) -> dict:
    return {"pk": pending_invitation(cast, side).pk}


CASES = {
    "programmes:invitation_list": Case(ADMIN),
    "programmes:invitation_create": Case(ADMIN),
    "programmes:invitation_resend": Case(ADMIN, _invitation_kwargs),
    "programmes:invitation_revoke": Case(ADMIN, _invitation_kwargs),
}

_TESTS = "tests/test_invitations.py::"
PUBLIC_URLS = {
    "invitation_accept": _TESTS + "test_new_person_sets_up_account_and_lands_in_organisation",
    "invitation_request_link": _TESTS + "test_expired_link_lets_person_ask_admins_for_a_new_one",
}
