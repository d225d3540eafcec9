"""The mentor map, closing a relationship, referring a mentee again, support resources.

Ticking and moving the stage are the mentor's alone; closing is the mentor's or an
admin's. Support resources are kept by the organisation admin. The relationship is
the open home pair of ``relationships.relationship`` (the cast's mentor and mentee).
"""

from django_scopes import scopes_disabled

from . import ADMIN, Case
from .mentoring_intake import mentee
from .relationships import relationship


def tick_kwargs(cast, side):
    return relationship(cast, side) | {"item": "contacted_line_manager"}


def resource(cast, side):
    from mentoring.models import SupportResource

    organisation = cast.org if side == "home" else cast.other_org
    with scopes_disabled():
        record, _ = SupportResource.objects.get_or_create(
            organisation=organisation,
            title=f"Staff wellbeing service ({side})",
            defaults={"category": SupportResource.Category.WELLBEING},
        )
    return {"pk": record.pk}


CASES = {
    "mentoring:stage_tick": Case(("mentor",), tick_kwargs),
    # A GET goes back to the relationship page: moving the stage is a button (POST).
    "mentoring:stage_move": Case(("mentor",), relationship, ok_status=302),
    "mentoring:relationship_close": Case(("owner", "mentor"), relationship),
    "mentoring:mentee_refer_again": Case(("owner", "colleague"), mentee),
    "mentoring:support_list": Case(ADMIN),
    "mentoring:support_create": Case(ADMIN),
    "mentoring:support_edit": Case(ADMIN, resource),
    "mentoring:support_delete": Case(ADMIN, resource),
}
