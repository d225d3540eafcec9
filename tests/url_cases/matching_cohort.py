"""Whole-cohort matching: cohorts, drafts and their pairs, for organisation admins only.

Each side gets a cohort with an open draft, made on first use: at home one pair
(the cast's mentee with the cast's mentor) and the coastal mentee unmatched; in
the other organisation the foreign mentee with a mentor there.
"""

from django_scopes import scopes_disabled

from . import ADMIN, Case
from .mentoring_intake import foreign_mentor


def _draft(cast, side):
    from matching.models import DraftPair, MatchDraft

    home = side == "home"
    programme = cast.programme if home else cast.other_programme
    mentee = cast.mentee_record if home else cast.foreign_mentee
    mentor = cast.mentor_record if home else foreign_mentor(cast)
    with scopes_disabled():
        cohort, _ = programme.cohorts.get_or_create(name="Matrix cohort")
        draft, created = MatchDraft.objects.get_or_create(
            programme=programme, cohort=cohort, status=MatchDraft.Status.DRAFT
        )
        if created:
            DraftPair.objects.create(
                draft=draft, mentee=mentee, mentor=mentor, score=50, reasons=["same trust"]
            )
            if home:
                draft.unmatched = {
                    str(cast.mentee_other_trust.pk): ["no capacity", "every mentor is full"]
                }
                draft.save()
    return draft


def _cohort_kwargs(cast, side):
    return {"pk": _draft(cast, side).cohort_id}


def _draft_kwargs(cast, side):
    return {"pk": _draft(cast, side).pk}


def _pair_kwargs(cast, side):
    with scopes_disabled():
        return {"pk": _draft(cast, side).pairs.get().pk}


CASES = {
    "matching:cohort_list": Case(ADMIN),
    "matching:cohort_detail": Case(ADMIN, _cohort_kwargs),
    "matching:draft_detail": Case(ADMIN, _draft_kwargs),
    "matching:draft_pair_add": Case(ADMIN, _draft_kwargs),
    "matching:draft_publish": Case(ADMIN, _draft_kwargs),
    "matching:draft_discard": Case(ADMIN, _draft_kwargs),
    "matching:draft_pair_remove": Case(ADMIN, _pair_kwargs),
    "matching:draft_pair_swap": Case(ADMIN, _pair_kwargs),
    "matching:draft_pair_coi": Case(ADMIN, _pair_kwargs),
}
