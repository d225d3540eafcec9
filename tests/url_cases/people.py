"""The person page: one person's roles, programmes, applications and relationships."""

from . import ADMIN, Case


def _person_kwargs(cast, side):
    # The other side's person belongs only to the other organisation.
    return {"user_pk": (cast.mentor if side == "home" else cast.other_admin).pk}


CASES = {
    "mentoring:person": Case(ADMIN, _person_kwargs),
}
