"""Whole-cohort matching: the proposed draft, its review pair by pair, and publishing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from accounts.models import User
from matching import engine
from matching.models import DraftPair, Exclusion, MatchDraft
from matching.services import cohort as service
from matching.services import pool
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Application, AuditEvent, Criterion

from .factories import CohortFactory, MenteeFactory, MentorFactory, ProgrammeFactory, UserFactory
from .factories_matching import ExclusionFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


# --- the people ---------------------------------------------------------------------


def add_mentor(programme, name, *, trust=None, offers=(), places=2, specialisms="lung"):
    email = name.lower().replace(" ", ".") + "@mentors.test"
    mentor = MentorFactory(
        programme=programme,
        user=UserFactory(email=email, full_name=name),
        trust=trust,
        max_concurrent=places,
        max_per_year=8,
        specialisms=specialisms,
    )
    with scopes_disabled():
        mentor.criteria_offered.set(Criterion.objects.filter(programme=programme, code__in=offers))
    return mentor


def add_mentee(programme, cohort, name, *, trust, wants=(), status="awaiting_match", **fields):
    mentee = MenteeFactory(
        programme=programme,
        cohort=cohort,
        trust=trust,
        full_name=name,
        email=name.lower().replace(" ", ".") + "@mentees.test",
        status=status,
        identified_by="self_referral",
        **fields,
    )
    with scopes_disabled():
        mentee.criteria_wanted.set(Criterion.objects.filter(programme=programme, code__in=wants))
    return mentee


@dataclass
class Academy:
    programme: object
    cohort: object
    morgan: object
    riley: object
    ada: object
    ben: object
    cai: object
    dee: object


@pytest.fixture
def academy(cast) -> Academy:
    """Two mentors with three places; three mentees who fit, one who wants what no one offers."""
    programme = ProgrammeFactory(organisation=cast.org, name="Research Mentoring Academy")
    cohort = CohortFactory(programme=programme, name="Spring 2027")
    home, coastal = cast.trust, cast.other_trust_same_org
    return Academy(
        programme=programme,
        cohort=cohort,
        morgan=add_mentor(
            programme, "Morgan Mentor", trust=home, offers=["funding", "leadership"], places=1
        ),
        riley=add_mentor(
            programme,
            "Riley Mentor",
            trust=coastal,
            offers=["networking", "work_life", "funding"],
            places=2,
        ),
        ada=add_mentee(
            programme, cohort, "Ada Mentee", trust=home, wants=["funding", "leadership"]
        ),
        ben=add_mentee(programme, cohort, "Ben Mentee", trust=coastal, wants=["networking"]),
        cai=add_mentee(programme, cohort, "Cai Mentee", trust=home, wants=["funding"]),
        dee=add_mentee(programme, cohort, "Dee Mentee", trust=coastal, wants=["industry"]),
    )


def url(name, *args):
    return reverse(f"matching:{name}", args=["home", *args])


def propose(academy, actor):
    with scope(organisation=academy.programme.organisation):
        return service.propose(academy.cohort, actor=actor)


def pairs_of(draft) -> dict[str, str]:
    with scopes_disabled():
        return {
            p.mentee.full_name: str(p.mentor)
            for p in draft.pairs.select_related("mentee", "mentor__user")
        }


def check_all(draft, user):
    with scopes_disabled():
        draft.pairs.update(coi_checked_by=user, coi_checked_at="2027-04-01T10:00:00Z")


def audit_events(org, **filters):
    with scope(organisation=org):
        return list(AuditEvent.objects.filter(organisation=org, **filters).order_by("pk"))


# --- proposing ----------------------------------------------------------------------


def test_proposed_draft_is_the_engines_optimum_with_each_pairs_reasons(cast, academy):
    draft = propose(academy, cast.owner)
    with scope(organisation=cast.org):
        mentees = pool.load_mentees(service.waiting_in(academy.cohort).order_by("pk"))
        expected = pool.cohort_assignment(
            academy.programme, mentees, service.mentors_with_places(academy.programme)
        )
        dense = engine.match_cohort(
            [pool.engine_mentee(m) for m in mentees],
            [pool.engine_mentor(m) for m in service.mentors_with_places(academy.programme)],
            pool.weights_of(academy.programme),
            pool.exclusions_for(mentees, service.mentors_with_places(academy.programme)),
            method="dense",
        )
        stored = list(draft.pairs.all())
    assert draft.status == MatchDraft.Status.DRAFT
    assert draft.cohort == academy.cohort and draft.created_by == cast.owner
    assert draft.engine_total == Decimal(str(expected.total_score))
    assert sum(p.score for p in stored) == draft.engine_total
    assert float(draft.engine_total) == dense.total_score
    assert draft.method == expected.method
    # Three fit and there are three places; Morgan's one place goes to a home-trust mentee.
    assert len(stored) == 3
    pairs = pairs_of(draft)
    assert pairs["Ben Mentee"] == "Riley Mentor"
    assert "Morgan Mentor" in (pairs["Ada Mentee"], pairs["Cai Mentee"])
    ada = next(p for p in stored if p.mentee_id == academy.ada.pk)
    assert ada.reasons and any("chosen criteria offered" in r for r in ada.reasons)
    assert ada.cross_trust == (ada.mentor_id == academy.riley.pk)
    assert not ada.added_by_hand and ada.coi_checked_at is None


def test_unmatched_mentees_are_kept_with_the_reason(cast, academy):
    with scopes_disabled():
        Mentor.objects.filter(pk=academy.riley.pk).update(max_concurrent=1)
    eve = add_mentee(
        academy.programme, academy.cohort, "Eve Mentee", trust=cast.trust, wants=["funding"]
    )
    ExclusionFactory(mentee=eve, mentor=academy.morgan)
    ExclusionFactory(mentee=eve, mentor=academy.riley, reason=Exclusion.Reason.LINE_MANAGEMENT)
    draft = propose(academy, cast.owner)
    reasons = {int(k): v[0] for k, v in draft.unmatched.items()}
    assert reasons[academy.dee.pk] == "no criteria overlap"
    assert reasons[eve.pk] == "all excluded"
    # Two places for Ada, Ben and Cai: one of them waits for a place.
    no_capacity = [pk for pk, reason in reasons.items() if reason == "no capacity"]
    assert len(no_capacity) == 1
    assert len(pairs_of(draft)) == 2


def test_only_the_cohorts_waiting_mentees_and_mentors_with_places_are_proposed(cast, academy):
    other_cohort = CohortFactory(programme=academy.programme, name="Autumn 2027")
    add_mentee(
        academy.programme, other_cohort, "Fay Elsewhere", trust=cast.trust, wants=["funding"]
    )
    add_mentee(
        academy.programme,
        academy.cohort,
        "Gus Matched",
        trust=cast.trust,
        wants=["funding"],
        status="matched",
    )
    full = add_mentor(
        academy.programme, "Hal Full", trust=cast.trust, offers=["industry"], places=1
    )
    RelationshipFactory(
        mentee=add_mentee(academy.programme, None, "Ivy", trust=cast.trust), mentor=full
    )
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        unmatched = set(
            Mentee.objects.filter(pk__in=[int(k) for k in draft.unmatched]).values_list(
                "full_name", flat=True
            )
        )
    named = set(pairs_of(draft)) | unmatched
    assert named == {"Ada Mentee", "Ben Mentee", "Cai Mentee", "Dee Mentee"}
    assert "Hal Full" not in pairs_of(draft).values()
    # Dee wants industry, which only the full mentor offers: no one available offers it.
    assert draft.unmatched[str(academy.dee.pk)][0] == "no criteria overlap"


def test_warnings_name_the_mentees_who_chose_no_criteria(cast, academy):
    nia = add_mentee(academy.programme, academy.cohort, "Nia Nocriteria", trust=cast.trust)
    draft = propose(academy, cast.owner)
    assert draft.warnings == [
        "1 mentee with no criteria chosen, matched on trust and specialism only: Nia Nocriteria"
    ]
    # Three places, and Nia's pairs score lowest: she waits for a place.
    assert draft.unmatched[str(nia.pk)][0] == "no capacity"


def test_recorded_exclusions_are_never_proposed(cast, academy):
    ExclusionFactory(mentee=academy.ada, mentor=academy.morgan)
    ExclusionFactory(mentee=academy.cai, mentor=academy.morgan)
    draft = propose(academy, cast.owner)
    pairs = pairs_of(draft)
    assert pairs.get("Ada Mentee") != "Morgan Mentor"
    assert pairs.get("Cai Mentee") != "Morgan Mentor"


def test_proposing_again_replaces_the_draft_under_review(client, cast, academy):
    client.force_login(cast.owner)
    first = propose(academy, cast.owner)
    response = client.post(url("cohort_detail", academy.cohort.pk))
    with scopes_disabled():
        second = MatchDraft.objects.exclude(pk=first.pk).get()
        first.refresh_from_db()
    assert response["Location"] == url("draft_detail", second.pk)
    assert first.status == MatchDraft.Status.DISCARDED
    assert second.status == MatchDraft.Status.DRAFT
    page = client.get(response["Location"]).content.decode()
    assert "Matches proposed: 3 pairs, 1 not matched" in page


def test_a_cohort_with_no_one_waiting_says_so(client, cast, academy):
    with scopes_disabled():
        Mentee.objects.filter(cohort=academy.cohort).update(status="withdrawn")
    client.force_login(cast.owner)
    response = client.post(url("cohort_detail", academy.cohort.pk), follow=True)
    assert "No mentees in this cohort are waiting for a match." in response.content.decode()
    with scopes_disabled():
        assert not MatchDraft.objects.exists()


@pytest.mark.parametrize(
    "error, message",
    [
        (engine.DuplicateIdError([7], []), "the same person is listed more than once"),
        (ValueError("criterion weights must be finite numbers >= 0: x"), "criterion weights"),
    ],
)
def test_an_engine_error_is_a_clear_message_not_a_crash(
    client, cast, academy, monkeypatch, error, message
):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine, "match_cohort", refuse)
    client.force_login(cast.owner)
    response = client.post(url("cohort_detail", academy.cohort.pk), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Matching could not run" in body and message in body
    with scopes_disabled():
        assert not MatchDraft.objects.exists()


def test_cohort_list_shows_waiting_mentees_places_and_drafts(client, cast, academy):
    draft = propose(academy, cast.owner)
    CohortFactory(programme=academy.programme, name="Autumn 2027")
    client.force_login(cast.owner)
    response = client.get(url("cohort_list"))
    rows = {row.cohort.name: row for row in response.context["rows"]}
    assert rows["Spring 2027"].waiting == 4
    assert rows["Spring 2027"].mentors_with_places == 2
    assert rows["Spring 2027"].places == 3
    assert rows["Spring 2027"].open_draft_id == draft.pk
    assert rows["Autumn 2027"].waiting == 0 and rows["Autumn 2027"].open_draft_id is None
    body = response.content.decode()
    assert url("draft_detail", draft.pk) in body
    assert "Research Mentoring Academy" in body


# --- reviewing ----------------------------------------------------------------------


def test_draft_page_shows_pairs_side_by_side_with_totals_and_records_the_view(
    client, cast, academy
):
    with scopes_disabled():
        academy.riley.specialisms = "breast, lung"
        academy.riley.save()
    draft = propose(academy, cast.owner)
    client.force_login(cast.owner)
    response = client.get(url("draft_detail", draft.pk))
    body = response.content.decode()
    review = response.context["review"]
    assert review.pair_count == 3 and review.coi_checked == 0
    assert review.total_score == draft.engine_total
    assert "0 of 3 done" in body
    assert "Research funding" in body and "Leadership development" in body
    assert "HGH" in body and "HCH" in body
    assert "breast, lung" in body
    assert "Not checked" in body
    assert "No criteria overlap" in body
    # Riley has 2 places and 2 pairs in the draft; Morgan 1 and 1.
    assert {row.mentor.pk: row.places_after for row in review.rows} == {
        academy.morgan.pk: 0,
        academy.riley.pk: 0,
    }
    [viewed] = audit_events(cast.org, action="view", object_type="matchdraft")
    assert viewed.actor == cast.owner and viewed.object_id == str(draft.pk)


def test_removing_a_pair_lists_the_mentee_as_removed(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.get(mentee=academy.ben)
    client.force_login(cast.owner)
    assert (
        "Remove this pair from the draft?"
        in client.get(url("draft_pair_remove", pair.pk)).content.decode()
    )
    response = client.post(url("draft_pair_remove", pair.pk))
    assert response["Location"] == url("draft_detail", draft.pk)
    with scopes_disabled():
        draft.refresh_from_db()
        assert not DraftPair.objects.filter(pk=pair.pk).exists()
    assert draft.unmatched[str(academy.ben.pk)][0] == service.REMOVED
    body = client.get(response["Location"]).content.decode()
    assert "Removed from the draft" in body
    assert audit_events(cast.org, action="change", object_type="matchdraft")


def test_swapping_exchanges_the_mentors_and_scores_both_pairs_again(client, cast, academy):
    draft = propose(academy, cast.owner)
    check_all(draft, cast.owner)
    with scopes_disabled():
        with_morgan = draft.pairs.get(mentor=academy.morgan)
        ben = draft.pairs.get(mentee=academy.ben)
    client.force_login(cast.owner)
    page = client.get(url("draft_pair_swap", with_morgan.pk)).content.decode()
    assert "Ben Mentee (mentor Riley Mentor)" in page
    response = client.post(url("draft_pair_swap", with_morgan.pk), {"other": ben.pk})
    assert response.status_code == 302
    with scope(organisation=cast.org):
        with_morgan.refresh_from_db()
        ben.refresh_from_db()
        assert with_morgan.mentor == academy.riley and ben.mentor == academy.morgan
        assert with_morgan.coi_checked_at is None and ben.coi_checked_by is None
        loaded = {m.pk: m for m in pool.load_mentees(Mentee.objects.filter(cohort=academy.cohort))}
        morgan = pool.programme_mentors(academy.programme).get(pk=academy.morgan.pk)
        fit = engine.score_pair(
            pool.engine_mentee(loaded[academy.ben.pk]),
            pool.engine_mentor(morgan),
            pool.weights_of(academy.programme),
            pool.options_for(academy.programme),
        )
    assert ben.score == Decimal(str(fit.score)).quantize(Decimal("0.01"))
    assert ben.reasons == list(fit.reasons)
    assert "none of 1 chosen criteria offered" in ben.reasons
    assert ben.cross_trust is True


def test_a_swap_that_would_make_an_excluded_pair_is_refused(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        with_morgan = draft.pairs.get(mentor=academy.morgan)
        ben = draft.pairs.get(mentee=academy.ben)
    ExclusionFactory(mentee=academy.ben, mentor=academy.morgan)
    client.force_login(cast.owner)
    response = client.post(url("draft_pair_swap", with_morgan.pk), {"other": ben.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "The mentors were not swapped." in body
    assert "Morgan Mentor cannot mentor Ben Mentee: declared conflict of interest" in body
    assert re.search(rf'<option value="{ben.pk}" selected', body)
    with scopes_disabled():
        ben.refresh_from_db()
    assert ben.mentor == academy.riley


def test_swap_needs_a_pair_chosen(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.get(mentor=academy.morgan)
    client.force_login(cast.owner)
    body = client.post(url("draft_pair_swap", pair.pk), {"other": ""}).content.decode()
    assert "Select the pair to swap mentors with" in body


def test_an_unmatched_mentee_is_added_with_a_mentor_who_has_a_place(client, cast, academy):
    quinn = add_mentor(
        academy.programme, "Quinn Mentor", trust=cast.trust, offers=["industry"], places=1
    )
    # Quinn was not in the draft: make the draft first, then add Quinn's place.
    with scopes_disabled():
        Mentor.objects.filter(pk=quinn.pk).update(accepting_new=False)
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        Mentor.objects.filter(pk=quinn.pk).update(accepting_new=True)
    client.force_login(cast.owner)
    chooser = client.get(url("draft_pair_add", draft.pk)).content.decode()
    assert f"?mentee={academy.dee.pk}" in chooser
    add_url = url("draft_pair_add", draft.pk) + f"?mentee={academy.dee.pk}"
    response = client.get(add_url)
    available = [ranked.mentor.pk for ranked, _ in response.context["choices"].available]
    assert available == [quinn.pk]
    # Morgan and Riley offer nothing Dee wants.
    unavailable = response.context["choices"].unavailable
    assert unavailable[academy.morgan.pk][1] == "no criteria overlap"
    response = client.post(add_url, {"mentor": quinn.pk})
    assert response["Location"] == url("draft_detail", draft.pk)
    with scopes_disabled():
        pair = draft.pairs.get(mentee=academy.dee)
        draft.refresh_from_db()
    assert pair.mentor == quinn and pair.added_by_hand
    assert "1 of 1 chosen criteria offered" in pair.reasons
    assert str(academy.dee.pk) not in draft.unmatched


def test_adding_is_refused_when_the_mentor_has_no_place_left_in_the_draft(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        # Ada and Cai both want funding: one has Morgan's only place, the other Riley.
        pair = draft.pairs.get(mentor=academy.riley, mentee__in=[academy.ada, academy.cai])
    mentee = pair.mentee
    client.force_login(cast.owner)
    client.post(url("draft_pair_remove", pair.pk))
    add_url = url("draft_pair_add", draft.pk) + f"?mentee={mentee.pk}"
    response = client.get(add_url)
    assert [r.mentor for r, _ in response.context["choices"].available] == [academy.riley]
    assert response.context["choices"].unavailable[academy.morgan.pk][1] == (
        service.NO_PLACE_IN_DRAFT
    )
    response = client.post(add_url, {"mentor": academy.morgan.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        f"Morgan Mentor cannot be added for {mentee.full_name}: no place left in this draft" in body
    )
    with scope(organisation=cast.org):
        with pytest.raises(service.DraftRefused, match="no place left in this draft"):
            service.add_pair(draft, mentee, academy.morgan, actor=cast.owner)
        assert not draft.pairs.filter(mentee=mentee).exists()


def test_adding_an_excluded_pair_is_refused(cast, academy):
    draft = propose(academy, cast.owner)
    ExclusionFactory(mentee=academy.dee, mentor=academy.riley)
    with (
        scope(organisation=cast.org),
        pytest.raises(service.DraftRefused, match="Riley Mentor cannot mentor Dee Mentee"),
    ):
        service.add_pair(draft, academy.dee, academy.riley, actor=cast.owner)


def test_the_conflict_of_interest_check_records_who_and_when(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.get(mentee=academy.ben)
    client.force_login(cast.owner)
    coi_url = url("draft_pair_coi", pair.pk)
    body = client.post(coi_url, {"action": "check", "note": "Asked both"}).content.decode()
    assert "Confirm that you have checked this pair for conflicts of interest" in body
    assert "Asked both" in body
    response = client.post(coi_url, {"action": "check", "confirmed": "on", "note": "Asked both"})
    assert response["Location"] == url("draft_detail", draft.pk)
    with scopes_disabled():
        pair.refresh_from_db()
    assert pair.coi_checked_by == cast.owner and pair.coi_checked_at is not None
    assert pair.coi_note == "Asked both"
    page = client.get(response["Location"]).content.decode()
    assert "1 of 3 done" in page
    assert f"Checked by {cast.owner}" in page
    [change] = [
        e
        for e in audit_events(cast.org, action="change", object_type="matchdraft")
        if "conflicts" in e.object_label
    ]
    assert change.fields == ["coi_checked_at", "coi_checked_by", "coi_note"]


def test_the_check_page_shows_the_conflicts_each_person_declared(client, cast, academy):
    with scopes_disabled():
        mentee_application = Application.objects.create(
            programme=academy.programme,
            cohort=academy.cohort,
            applicant=UserFactory(email="ben.mentee@mentees.test"),
            side="mentee",
            conflicts_of_interest="Professor Jo Bloggs, my supervisor",
        )
        Mentee.objects.filter(pk=academy.ben.pk).update(source_application=mentee_application)
        Application.objects.create(
            programme=academy.programme,
            cohort=academy.cohort,
            applicant=academy.riley.user,
            side="mentor",
            conflicts_of_interest="Anyone in the Coastal research unit",
        )
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.get(mentee=academy.ben)
    client.force_login(cast.owner)
    body = client.get(url("draft_pair_coi", pair.pk)).content.decode()
    assert "Professor Jo Bloggs, my supervisor" in body
    assert "Anyone in the Coastal research unit" in body
    viewed = audit_events(cast.org, action="view", object_type="matchdraft")
    assert viewed[-1].fields == ["conflicts_of_interest", "full_name"]


def test_excluding_a_pair_records_the_exclusion_and_takes_the_pair_out(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.get(mentee=academy.ben)
    client.force_login(cast.owner)
    response = client.post(
        url("draft_pair_coi", pair.pk),
        {"action": "exclude", "exclude-note": "Same research group"},
    )
    assert response["Location"] == url("draft_detail", draft.pk)
    with scopes_disabled():
        exclusion = Exclusion.objects.get(mentee=academy.ben, mentor=academy.riley)
        draft.refresh_from_db()
        assert not draft.pairs.filter(mentee=academy.ben).exists()
    assert exclusion.reason == Exclusion.Reason.CONFLICT_OF_INTEREST
    assert exclusion.note == "Same research group" and exclusion.created_by == cast.owner
    assert draft.unmatched[str(academy.ben.pk)] == [
        service.REMOVED,
        "excluded: conflict of interest",
    ]
    # The pair is never proposed again.
    client.post(url("cohort_detail", academy.cohort.pk))
    with scopes_disabled():
        latest = MatchDraft.objects.get(status="draft")
    assert pairs_of(latest).get("Ben Mentee") != "Riley Mentor"


# --- publishing and discarding -------------------------------------------------------


def test_publishing_is_refused_until_every_pair_is_checked(client, cast, academy):
    draft = propose(academy, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.first()
        DraftPair.objects.filter(pk=pair.pk).update(
            coi_checked_by=cast.owner, coi_checked_at="2027-04-01T10:00:00Z"
        )
    client.force_login(cast.owner)
    page = client.get(url("draft_publish", draft.pk)).content.decode()
    assert "2 pairs still need a conflict of interest check" in page
    response = client.post(url("draft_publish", draft.pk), follow=True)
    assert "2 of 3 not checked" in response.content.decode()
    with scopes_disabled():
        draft.refresh_from_db()
        assert not Relationship.objects.filter(programme=academy.programme).exists()
    assert draft.status == MatchDraft.Status.DRAFT
    assert mail.outbox == []


def test_publishing_makes_every_relationship_and_emails_both_people(
    client, cast, academy, django_capture_on_commit_callbacks
):
    draft = propose(academy, cast.owner)
    check_all(draft, cast.owner)
    client.force_login(cast.owner)
    assert "Publish 3 matches" in client.get(url("draft_publish", draft.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("draft_publish", draft.pk))
    assert response["Location"] == url("draft_detail", draft.pk)
    with scopes_disabled():
        draft.refresh_from_db()
        relationships = list(
            Relationship.objects.filter(programme=academy.programme).select_related(
                "mentee", "mentor"
            )
        )
        stored = {p.mentee_id: p for p in draft.pairs.all()}
    assert draft.status == MatchDraft.Status.PUBLISHED
    assert draft.published_by == cast.owner and draft.published_at is not None
    assert len(relationships) == 3
    for relationship in relationships:
        pair = stored[relationship.mentee_id]
        assert relationship.mentor_id == pair.mentor_id
        assert relationship.route == Relationship.Route.COHORT
        assert relationship.match_score == pair.score
        assert relationship.matched_by == cast.owner
        assert relationship.mentee.status == Mentee.Status.MATCHED
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(
        [r.mentee.email for r in relationships] + [str(r.mentor.user.email) for r in relationships]
    )
    page = client.get(url("draft_detail", draft.pk)).content.decode()
    assert "Published" in page and "3 relationships created" in page
    assert "Check conflicts" not in page


def test_publishing_is_all_or_nothing_when_a_pair_became_invalid(
    client, cast, academy, django_capture_on_commit_callbacks
):
    draft = propose(academy, cast.owner)
    check_all(draft, cast.owner)
    # Meanwhile Ben was matched by a lead nurse to someone else.
    other = add_mentor(academy.programme, "Sam Other", trust=cast.trust, offers=["networking"])
    with scope(organisation=cast.org):
        pairing_mentee = Mentee.objects.get(pk=academy.ben.pk)
        from matching.services import pairing

        pairing.make_pair(pairing_mentee, other, actor=cast.colleague, notify=False)
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("draft_publish", draft.pk), follow=True)
    body = response.content.decode()
    assert "Nothing was published" in body
    assert "Ben Mentee with Riley Mentor:" in body
    assert "Ben Mentee is matched, not waiting for a match." in body
    with scopes_disabled():
        draft.refresh_from_db()
        made = Relationship.objects.filter(programme=academy.programme)
        assert list(made.values_list("mentor__user__full_name", flat=True)) == ["Sam Other"]
        assert Mentee.objects.get(pk=academy.ada.pk).status == Mentee.Status.AWAITING_MATCH
    assert draft.status == MatchDraft.Status.DRAFT
    assert mail.outbox == []


def test_discarding_a_draft_matches_no_one(client, cast, academy):
    draft = propose(academy, cast.owner)
    client.force_login(cast.owner)
    assert "Discard this draft?" in client.get(url("draft_discard", draft.pk)).content.decode()
    response = client.post(url("draft_discard", draft.pk))
    assert response["Location"] == url("cohort_detail", academy.cohort.pk)
    with scopes_disabled():
        draft.refresh_from_db()
        assert not Relationship.objects.filter(programme=academy.programme).exists()
    assert draft.status == MatchDraft.Status.DISCARDED
    # A closed draft cannot change.
    with scopes_disabled():
        pair = draft.pairs.first()
    response = client.post(url("draft_pair_remove", pair.pk), follow=True)
    assert "This draft was discarded" in response.content.decode()
    with scopes_disabled():
        assert DraftPair.objects.filter(pk=pair.pk).exists()
    with scope(organisation=cast.org), pytest.raises(service.DraftRefused):
        service.publish(draft, actor=cast.owner)


# --- who may ------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["colleague", "mentor", "mentee", "evaluator"])
def test_only_admins_may_match_cohorts(client, cast, academy, person):
    draft = propose(academy, cast.owner)
    check_all(draft, cast.owner)
    with scopes_disabled():
        pair = draft.pairs.first()
    client.force_login(getattr(cast, person))
    for name, arg in [
        ("cohort_list", None),
        ("cohort_detail", academy.cohort.pk),
        ("draft_detail", draft.pk),
        ("draft_publish", draft.pk),
        ("draft_discard", draft.pk),
        ("draft_pair_add", draft.pk),
        ("draft_pair_remove", pair.pk),
        ("draft_pair_swap", pair.pk),
        ("draft_pair_coi", pair.pk),
    ]:
        target = url(name) if arg is None else url(name, arg)
        assert client.get(target).status_code == 404
        assert client.post(target).status_code == 404
    with scopes_disabled():
        draft.refresh_from_db()
        assert draft.pairs.count() == 3
    assert draft.status == MatchDraft.Status.DRAFT


def test_another_organisations_draft_is_404_for_an_admin(client, cast, academy):
    draft = propose(academy, cast.owner)
    client.force_login(cast.other_admin)
    response = client.post(reverse("matching:draft_publish", args=["other", draft.pk]))
    assert response.status_code == 404
    with scopes_disabled():
        draft.refresh_from_db()
    assert draft.status == MatchDraft.Status.DRAFT


# --- queries --------------------------------------------------------------------------


def crowd(programme, cohort, trusts, *, mentees: int, mentors: int, tag: str):
    """Many mentees and mentors, made in bulk, with criteria on both sides."""
    codes = list(Criterion.objects.filter(programme=programme).order_by("position"))
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"{tag}.mentor{n}@bulk.test", full_name=f"{tag} Mentor {n}", password="!")
            for n in range(mentors)
        )
        made_mentors = Mentor.objects.bulk_create(
            Mentor(
                programme=programme,
                user=user,
                trust=trusts[n % len(trusts)],
                max_concurrent=8,
                max_per_year=8,
                specialisms="lung, breast" if n % 2 else "urology",
            )
            for n, user in enumerate(users)
        )
        Mentor.criteria_offered.through.objects.bulk_create(
            Mentor.criteria_offered.through(mentor=mentor, criterion=codes[(n + k) % 6])
            for n, mentor in enumerate(made_mentors)
            for k in range(3)
        )
        made_mentees = Mentee.objects.bulk_create(
            Mentee(
                programme=programme,
                cohort=cohort,
                trust=trusts[n % len(trusts)],
                full_name=f"{tag} Mentee {n:04d}",
                email=f"{tag}.mentee{n}@bulk.test",
                role_title="Research nurse",
                specialism="lung" if n % 3 else "breast",
                identified_by="self_referral",
                status="awaiting_match",
            )
            for n in range(mentees)
        )
        Mentee.criteria_wanted.through.objects.bulk_create(
            Mentee.criteria_wanted.through(mentee=mentee, criterion=codes[(n + k) % 6])
            for n, mentee in enumerate(made_mentees)
            for k in range(3)
        )


def test_draft_page_runs_the_same_queries_for_5_or_200_pairs(client, cast):
    programme = ProgrammeFactory(organisation=cast.org, name="Bulk Academy")
    small_cohort = CohortFactory(programme=programme, name="Small")
    large_cohort = CohortFactory(programme=programme, name="Large")
    trusts = [cast.trust, cast.other_trust_same_org]
    with scopes_disabled():
        crowd(programme, small_cohort, trusts, mentees=5, mentors=2, tag="small")
    with scope(organisation=cast.org):
        small = service.propose(small_cohort, actor=cast.owner)
    with scopes_disabled():
        crowd(programme, large_cohort, trusts, mentees=200, mentors=40, tag="large")
    with scope(organisation=cast.org):
        large = service.propose(large_cohort, actor=cast.owner)
    with scopes_disabled():
        assert small.pairs.count() == 5 and large.pairs.count() == 200
        for draft in (small, large):
            first = draft.pairs.order_by("pk").first()
            first.coi_checked_by = cast.owner
            first.coi_checked_at = first.draft.created_at
            first.save()
    client.force_login(cast.owner)
    counts = []
    for draft in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("draft_detail", draft.pk))
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 25


def test_cohort_list_queries_do_not_grow_with_cohorts_and_mentors(client, cast):
    programme = ProgrammeFactory(organisation=cast.org, name="Bulk Academy")
    trusts = [cast.trust, cast.other_trust_same_org]
    first = CohortFactory(programme=programme, name="First")
    with scopes_disabled():
        crowd(programme, first, trusts, mentees=3, mentors=2, tag="first")
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as few:
        client.get(url("cohort_list"))
    for n in range(8):
        cohort = CohortFactory(programme=programme, name=f"Cohort {n}")
        with scopes_disabled():
            crowd(programme, cohort, trusts, mentees=10, mentors=5, tag=f"c{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("cohort_list"))
    assert len(response.context["rows"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)
