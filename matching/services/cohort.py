"""Whole-cohort matching: the engine proposes a draft, an admin reviews it, then publishes.

A draft holds one proposed pair per matched mentee, with the engine's score and
reasons, and the mentees it left unmatched with why. The admin removes, swaps or
adds pairs (re-scored with the engine's own scoring, and checked against the same
exclusions as every other route), records the conflict-of-interest check for each
pair, and publishes. Publishing makes every relationship through
:func:`pairing.make_pair` in one transaction: if any pair can no longer be made,
nothing is published.

Every change locks the draft row first, so two admins working on the same draft
cannot interleave their edits, and a draft that was published or discarded in the
meantime refuses them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from matching import engine
from mentoring.models import Mentee, Mentor, Relationship
from mentoring.services import with_caseload
from programmes import audit
from programmes.models import Application, AuditEvent, Cohort, Organisation, Programme

from ..models import DraftPair, Exclusion, MatchDraft
from . import pairing, pool

REMOVED = "removed from the draft"
NO_PLACE_IN_DRAFT = "no place left in this draft"
UNMATCHED_LABELS = {
    engine.UnmatchedReason.NO_CAPACITY.value: "No capacity",
    engine.UnmatchedReason.ALL_EXCLUDED.value: "All excluded",
    engine.UnmatchedReason.NO_CRITERIA_OVERLAP.value: "No criteria overlap",
    REMOVED: "Removed from the draft",
}
CENT = Decimal("0.01")
# The id list that ends some engine warnings ("...: 12, 15 and 3 more").
_ID_LIST = re.compile(r": (\d+(?:, \d+)*)( and \d+ more)?$")


class DraftRefused(ValidationError):
    """The change cannot be made to the draft; the message says why, for the admin."""


def _points(score: float | Decimal) -> Decimal:
    return Decimal(str(score)).quantize(CENT)


# --- Reading ------------------------------------------------------------------------


def waiting_in(cohort: Cohort) -> QuerySet[Mentee]:
    """Mentees of the cohort who are waiting for a match (identified or awaiting)."""
    return Mentee.objects.filter(cohort=cohort, programme_id=cohort.programme_id).waiting()


def mentors_with_places(programme: Programme) -> list[Mentor]:
    """The programme's mentors who can take someone now, loaded for the engine."""
    return [m for m in pool.programme_mentors(programme) if pool.places_left(m) > 0]


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    waiting: int
    mentors_with_places: int
    places: int
    open_draft_id: int | None
    published_drafts: int


def cohort_rows(cohorts: QuerySet[Cohort], organisation: Organisation) -> list[CohortRow]:
    """The cohorts, with what whole-cohort matching needs to know about each.

    Four queries whatever the numbers of cohorts, mentees and mentors.
    """
    cohorts = list(cohorts.select_related("programme"))
    waiting = dict(
        Mentee.objects.filter(
            cohort__in=[c.pk for c in cohorts],
            programme_id=F("cohort__programme_id"),
            status__in=pairing.WAITING,
        )
        .order_by()
        .values_list("cohort_id")
        .annotate(n=Count("pk"))
    )
    mentors: Counter[int] = Counter()
    places: Counter[int] = Counter()
    programme_ids = {c.programme_id for c in cohorts}
    for mentor in with_caseload(Mentor.objects.filter(programme_id__in=programme_ids)):
        left = pool.places_left(mentor)
        if left > 0:
            mentors[mentor.programme_id] += 1
            places[mentor.programme_id] += left
    open_drafts: dict[int, int] = {}
    published: Counter[int] = Counter()
    for cohort_id, status, draft_id in MatchDraft.objects.filter(
        programme__organisation=organisation,
        cohort__in=[c.pk for c in cohorts],
        status__in=[MatchDraft.Status.DRAFT, MatchDraft.Status.PUBLISHED],
    ).values_list("cohort_id", "status", "pk"):
        if status == MatchDraft.Status.DRAFT:
            open_drafts[cohort_id] = draft_id
        else:
            published[cohort_id] += 1
    return [
        CohortRow(
            cohort=cohort,
            waiting=waiting.get(cohort.pk, 0),
            mentors_with_places=mentors[cohort.programme_id],
            places=places[cohort.programme_id],
            open_draft_id=open_drafts.get(cohort.pk),
            published_drafts=published[cohort.pk],
        )
        for cohort in cohorts
    ]


@dataclass(frozen=True)
class PairRow:
    pair: DraftPair
    mentee: Mentee
    mentor: Mentor
    criteria: tuple[str, ...]
    places_after: int


@dataclass(frozen=True)
class UnmatchedRow:
    mentee: Mentee
    reason: str
    label: str
    detail: str


@dataclass(frozen=True)
class DraftReview:
    """A draft laid out for review: pairs side by side, the unmatched, the totals."""

    draft: MatchDraft
    rows: tuple[PairRow, ...]
    unmatched: tuple[UnmatchedRow, ...]
    total_score: Decimal
    coi_checked: int

    @property
    def pair_count(self) -> int:
        return len(self.rows)

    @property
    def all_checked(self) -> bool:
        return self.coi_checked == len(self.rows)


def _criterion_labels(programme: Programme) -> dict[str, str]:
    return dict(programme.criteria.values_list("code", "label"))


def _draft_mentors(draft: MatchDraft, mentor_ids: Sequence[int]) -> dict[int, Mentor]:
    """The mentors named, with caseload, person and trust (one query)."""
    mentors = with_caseload(Mentor.objects.filter(pk__in=set(mentor_ids))).select_related(
        "user", "trust", "programme"
    )
    return {m.pk: m for m in mentors}


def places_after(mentor: Mentor, pairs_in_draft: int) -> int:
    """Places the mentor would have once the draft is published (negative: over)."""
    return pool.places_left(mentor) - pairs_in_draft


def review(draft: MatchDraft) -> DraftReview:
    """Everything the review page shows, in a fixed number of queries."""
    pairs = list(draft.pairs.select_related("coi_checked_by").order_by("mentee__full_name", "pk"))
    unmatched_ids = [int(key) for key in draft.unmatched]
    mentees = {
        m.pk: m
        for m in pool.load_mentees(
            Mentee.objects.filter(pk__in=[p.mentee_id for p in pairs] + unmatched_ids)
        )
    }
    mentors = _draft_mentors(draft, [p.mentor_id for p in pairs])
    in_draft = Counter(p.mentor_id for p in pairs)
    labels = _criterion_labels(draft.programme)
    rows = []
    for pair in pairs:
        mentee, mentor = mentees[pair.mentee_id], mentors[pair.mentor_id]
        rows.append(
            PairRow(
                pair=pair,
                mentee=mentee,
                mentor=mentor,
                criteria=tuple(labels.get(c, c) for c in pool.wanted_codes(mentee)),
                places_after=places_after(mentor, in_draft[mentor.pk]),
            )
        )
    unmatched = []
    for key, (reason, detail) in draft.unmatched.items():
        mentee = mentees.get(int(key))
        if mentee is None:  # the record was deleted since the draft was made
            continue
        label = UNMATCHED_LABELS.get(reason, reason.capitalize())
        unmatched.append(UnmatchedRow(mentee, reason, label, detail))
    unmatched.sort(key=lambda row: (row.mentee.full_name, row.mentee.pk))
    return DraftReview(
        draft=draft,
        rows=tuple(rows),
        unmatched=tuple(unmatched),
        total_score=sum((p.score for p in pairs), Decimal("0.00")),
        coi_checked=sum(1 for p in pairs if p.coi_checked_at is not None),
    )


@dataclass(frozen=True)
class AddChoices:
    """Mentors who may be added for one unmatched mentee, and those who may not."""

    mentee: Mentee
    available: tuple[tuple[pool.Ranked, int], ...]  # (suggestion, places left after)
    unavailable: dict[int, tuple[Mentor, str]]


def add_choices(draft: MatchDraft, mentee: Mentee) -> AddChoices:
    """The engine's suggestions for the mentee, keeping mentors with a place in the draft.

    ``mentee`` must come from :func:`pool.load_mentees`.
    """
    mentors = list(pool.programme_mentors(draft.programme))
    in_draft = Counter(draft.pairs.values_list("mentor_id", flat=True))
    suggestions = pool.suggest(mentee, mentors=mentors)
    available = []
    unavailable: dict[int, tuple[Mentor, str]] = {}
    for ranked in suggestions.ranked:
        left = places_after(ranked.mentor, in_draft[ranked.mentor.pk])
        if left > 0:
            available.append((ranked, left))
        else:
            unavailable[ranked.mentor.pk] = (ranked.mentor, NO_PLACE_IN_DRAFT)
    for ranked in suggestions.unavailable:
        unavailable[ranked.mentor.pk] = (ranked.mentor, ranked.unavailable)
    return AddChoices(mentee, tuple(available), unavailable)


def declared_conflicts(pair: DraftPair) -> tuple[Application | None, Application | None]:
    """The applications whose conflicts of interest the admin reads: mentee's, mentor's."""
    mentee_application = pair.mentee.source_application
    mentor_application = (
        Application.objects.filter(
            programme_id=pair.draft.programme_id,
            applicant_id=pair.mentor.user_id,
            side=Application.Side.MENTOR,
        )
        .order_by("-submitted_at", "-pk")
        .first()
    )
    return mentee_application, mentor_application


# --- Proposing ----------------------------------------------------------------------


def _name_ids(warning: str, names: dict[int, str]) -> str:
    """Put people's names in place of the engine's ids at the end of a warning."""
    match = _ID_LIST.search(warning)
    if match is None:
        return warning
    ids = [int(i) for i in match.group(1).split(", ")]
    if not all(i in names for i in ids):
        return warning
    listed = ", ".join(names[i] for i in ids)
    return f"{warning[: match.start()]}: {listed}{match.group(2) or ''}"


def propose(cohort: Cohort, *, actor, path: str = "") -> MatchDraft:
    """Ask the engine for the best assignment of the cohort's waiting mentees, and store it.

    The mentors are the programme's mentors with places now. Any open draft of the
    cohort is discarded: there is one draft under review at a time.
    """
    programme = cohort.programme
    mentees = pool.load_mentees(waiting_in(cohort).order_by("pk"))
    if not mentees:
        raise DraftRefused("No mentees in this cohort are waiting for a match.")
    mentors = mentors_with_places(programme)
    try:
        result = pool.cohort_assignment(programme, mentees, mentors)
    except engine.DuplicateIdError as error:
        raise DraftRefused(
            "Matching could not run: the same person is listed more than once. "
            "Check the cohort's mentee records and try again."
        ) from error
    except ValueError as error:
        raise DraftRefused(
            f"Matching could not run: {error}. Check the programme's criteria and try again."
        ) from error
    names = {m.pk: m.full_name for m in mentees}
    names |= {pool.mentor_key(m.pk): str(m) for m in mentors}
    with transaction.atomic():
        Cohort.objects.select_for_update().filter(pk=cohort.pk).exists()
        discarded = list(
            MatchDraft.objects.filter(
                programme=programme, cohort=cohort, status=MatchDraft.Status.DRAFT
            ).values_list("pk", flat=True)
        )
        MatchDraft.objects.filter(pk__in=discarded).update(status=MatchDraft.Status.DISCARDED)
        draft = MatchDraft.objects.create(
            programme=programme,
            cohort=cohort,
            method=result.method,
            engine_total=_points(result.total_score),
            warnings=[_name_ids(w, names) for w in result.warnings],
            unmatched={str(u.mentee_id): [u.reason.value, u.detail] for u in result.unmatched},
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        DraftPair.objects.bulk_create(
            DraftPair(
                draft=draft,
                mentee_id=pair.mentee_id,
                mentor_id=pool.mentor_pk(pair.mentor_id),
                score=_points(pair.score),
                reasons=list(pair.reasons),
                cross_trust=pair.cross_trust,
            )
            for pair in result.pairs
        )
        for draft_id in discarded:
            _record(draft_id, programme, actor, path, "Replaced by a new draft", ["status"])
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=draft,
            label=f"Proposed matches for {cohort.name}",
            fields=["pairs", "unmatched"],
            path=path,
        )
    return draft


# --- Editing ------------------------------------------------------------------------


def _record(
    draft: MatchDraft | int, programme: Programme, actor, path: str, label: str, fields
) -> None:
    audit.record(
        organisation=programme.organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        object_type="matchdraft",
        object_id=draft if isinstance(draft, int) else draft.pk,
        label=label,
        fields=fields,
        path=path,
    )


def _locked_open(draft: MatchDraft) -> MatchDraft:
    """The draft, locked and re-read; refused unless it is still open."""
    draft = (
        MatchDraft.objects.select_for_update(of=("self",))
        .select_related("programme__organisation", "cohort")
        .get(pk=draft.pk)
    )
    if draft.status != MatchDraft.Status.DRAFT:
        raise DraftRefused(f"This draft was {draft.get_status_display().lower()} already.")
    return draft


def _locked_pair(pair: DraftPair) -> tuple[MatchDraft, DraftPair]:
    draft = _locked_open(pair.draft)
    pair = DraftPair.objects.filter(pk=pair.pk, draft=draft).first()
    if pair is None:
        raise DraftRefused("This pair is no longer in the draft.")
    return draft, pair


def _loaded(mentee_ids: Sequence[int], mentor_ids: Sequence[int], programme: Programme):
    mentees = {
        m.pk: m
        for m in pool.load_mentees(Mentee.objects.filter(pk__in=mentee_ids, programme=programme))
    }
    mentors = {m.pk: m for m in pool.programme_mentors(programme).filter(pk__in=mentor_ids)}
    return mentees, mentors


def _excluded(mentee: Mentee, mentor: Mentor) -> str | None:
    """Why the pair may never be made (recorded exclusions, line management, same person)."""
    for exclusion in pool.exclusions_for([mentee], [mentor]):
        return exclusion.reason
    return None


def _fit(mentee: Mentee, mentor: Mentor, programme: Programme) -> engine.Fit:
    return engine.score_pair(
        pool.engine_mentee(mentee),
        pool.engine_mentor(mentor),
        pool.weights_of(programme),
        pool.options_for(programme),
    )


def _set_fit(pair: DraftPair, mentor: Mentor, fit: engine.Fit) -> None:
    pair.mentor = mentor
    pair.score = _points(fit.score)
    pair.reasons = list(fit.reasons)
    pair.cross_trust = fit.cross_trust
    pair.coi_checked_by = None
    pair.coi_checked_at = None
    pair.coi_note = ""


PAIR_FIT_FIELDS = ["mentor", "score", "reasons", "cross_trust"]
PAIR_COI_FIELDS = ["coi_checked_by", "coi_checked_at", "coi_note"]


def remove_pair(pair: DraftPair, *, actor, path: str = "", detail: str = "") -> MatchDraft:
    """Take a pair out of the draft; the mentee is listed as unmatched, removed by hand."""
    with transaction.atomic():
        draft, pair = _locked_pair(pair)
        mentee_id = pair.mentee_id
        pair.delete()
        draft.unmatched[str(mentee_id)] = [REMOVED, detail or "removed when the draft was reviewed"]
        draft.save(update_fields=["unmatched"])
        _record(
            draft,
            draft.programme,
            actor,
            path,
            "Removed a pair from a matching draft",
            ["pairs", "unmatched"],
        )
    return draft


def swap_mentors(pair: DraftPair, other: DraftPair, *, actor, path: str = "") -> MatchDraft:
    """Exchange the mentors of two pairs of one draft; both new pairs are scored afresh.

    Refused when either new pair is excluded. Both lose their conflict-of-interest
    check: it was made for the old pairs.
    """
    with transaction.atomic():
        draft, pair = _locked_pair(pair)
        other = DraftPair.objects.filter(pk=other.pk, draft=draft).first()
        if other is None or other.pk == pair.pk:
            raise DraftRefused("Choose another pair of this draft to swap with.")
        if other.mentor_id == pair.mentor_id:
            raise DraftRefused("Both pairs have the same mentor, so there is nothing to swap.")
        mentees, mentors = _loaded(
            [pair.mentee_id, other.mentee_id], [pair.mentor_id, other.mentor_id], draft.programme
        )
        first_mentee, second_mentee = mentees[pair.mentee_id], mentees[other.mentee_id]
        first_mentor, second_mentor = mentors[other.mentor_id], mentors[pair.mentor_id]
        refusals = [
            f"{mentor} cannot mentor {mentee.full_name}: {reason}"
            for mentee, mentor in ((first_mentee, first_mentor), (second_mentee, second_mentor))
            if (reason := _excluded(mentee, mentor)) is not None
        ]
        if refusals:
            raise DraftRefused("The mentors were not swapped. " + "; ".join(refusals) + ".")
        _set_fit(pair, first_mentor, _fit(first_mentee, first_mentor, draft.programme))
        _set_fit(other, second_mentor, _fit(second_mentee, second_mentor, draft.programme))
        DraftPair.objects.bulk_update([pair, other], PAIR_FIT_FIELDS + PAIR_COI_FIELDS)
        _record(draft, draft.programme, actor, path, "Swapped the mentors of two pairs", ["pairs"])
    return draft


def add_pair(
    draft: MatchDraft, mentee: Mentee, mentor: Mentor, *, actor, path: str = ""
) -> DraftPair:
    """Pair an unmatched mentee of the draft with a mentor who has a place left in it."""
    with transaction.atomic():
        draft = _locked_open(draft)
        if str(mentee.pk) not in draft.unmatched:
            raise DraftRefused(f"{mentee.full_name} is not unmatched in this draft.")
        mentees, mentors = _loaded([mentee.pk], [mentor.pk], draft.programme)
        mentee, mentor = mentees.get(mentee.pk), mentors.get(mentor.pk)
        if mentee is None or mentor is None:
            raise DraftRefused("Choose a mentor of this programme.")
        if mentee.status not in pairing.WAITING:
            raise DraftRefused(
                f"{mentee.full_name} is {mentee.get_status_display().lower()}, "
                "not waiting for a match."
            )
        reason = _excluded(mentee, mentor)
        if reason is not None:
            raise DraftRefused(f"{mentor} cannot mentor {mentee.full_name}: {reason}.")
        if places_after(mentor, draft.pairs.filter(mentor=mentor).count()) <= 0:
            raise DraftRefused(f"{mentor} has no place left in this draft.")
        fit = _fit(mentee, mentor, draft.programme)
        pair = DraftPair(draft=draft, mentee=mentee, added_by_hand=True)
        _set_fit(pair, mentor, fit)
        pair.save()
        del draft.unmatched[str(mentee.pk)]
        draft.save(update_fields=["unmatched"])
        _record(
            draft,
            draft.programme,
            actor,
            path,
            "Added a pair to a matching draft",
            ["pairs", "unmatched"],
        )
    return pair


def record_coi_check(pair: DraftPair, *, actor, note: str = "", path: str = "") -> DraftPair:
    """Record that the admin checked this pair for conflicts of interest, and when."""
    with transaction.atomic():
        draft, pair = _locked_pair(pair)
        pair.coi_checked_by = actor
        pair.coi_checked_at = timezone.now()
        pair.coi_note = note.strip()
        pair.save(update_fields=PAIR_COI_FIELDS)
        _record(
            draft,
            draft.programme,
            actor,
            path,
            "Checked a pair for conflicts of interest",
            PAIR_COI_FIELDS,
        )
    return pair


def exclude_pair(pair: DraftPair, *, actor, note: str = "", path: str = "") -> Exclusion:
    """A conflict was found: the pair is excluded for good and taken out of the draft."""
    with transaction.atomic():
        draft, pair = _locked_pair(pair)
        exclusion, created = Exclusion.objects.get_or_create(
            programme=draft.programme,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            defaults={
                "reason": Exclusion.Reason.CONFLICT_OF_INTEREST,
                "note": note.strip(),
                "created_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            audit.record(
                organisation=draft.programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=exclusion,
                label="Excluded a pair: conflict of interest",
                fields=["mentee", "mentor", "reason", "note"],
                path=path,
            )
        remove_pair(pair, actor=actor, path=path, detail="excluded: conflict of interest")
    return exclusion


# --- Publishing and discarding ------------------------------------------------------


def publish(draft: MatchDraft, *, actor, path: str = "") -> list[Relationship]:
    """Make every pair of the draft a relationship, all or none, and tell both people.

    Refused until every pair has its conflict-of-interest check. A pair that can no
    longer be made (someone was matched elsewhere, a mentor's places changed, an
    exclusion was recorded) refuses the whole draft, naming the pairs.
    """
    with transaction.atomic():
        draft = _locked_open(draft)
        pairs = list(
            draft.pairs.select_related("mentee", "mentor__user").order_by("mentee__full_name", "pk")
        )
        if not pairs:
            raise DraftRefused("This draft has no pairs to publish.")
        unchecked = [p for p in pairs if p.coi_checked_at is None]
        if unchecked:
            raise DraftRefused(
                "Record the conflict of interest check for every pair before publishing: "
                f"{len(unchecked)} of {len(pairs)} not checked."
            )
        relationships = []
        refused = []
        for pair in pairs:
            try:
                relationships.append(
                    pairing.make_pair(
                        pair.mentee,
                        pair.mentor,
                        actor=actor,
                        route=Relationship.Route.COHORT,
                        score=pair.score,
                        cross_trust=pair.cross_trust,
                        path=path,
                        notify=True,
                    )
                )
            except pairing.PairingRefused as refusal:
                refused.append(
                    f"{pair.mentee.full_name} with {pair.mentor}: {' '.join(refusal.messages)}"
                )
            except IntegrityError:
                refused.append(
                    f"{pair.mentee.full_name} with {pair.mentor}: "
                    f"{pair.mentee.full_name} already has a mentor."
                )
        if refused:
            raise DraftRefused(
                "Nothing was published. Change these pairs and try again: " + " ".join(refused)
            )
        draft.status = MatchDraft.Status.PUBLISHED
        draft.published_by = actor if getattr(actor, "is_authenticated", False) else None
        draft.published_at = timezone.now()
        draft.save(update_fields=["status", "published_by", "published_at"])
        _record(
            draft,
            draft.programme,
            actor,
            path,
            f"Published {len(pairs)} matches",
            ["status", "published_by", "published_at"],
        )
    return relationships


def discard(draft: MatchDraft, *, actor, path: str = "") -> MatchDraft:
    with transaction.atomic():
        draft = _locked_open(draft)
        draft.status = MatchDraft.Status.DISCARDED
        draft.save(update_fields=["status"])
        _record(draft, draft.programme, actor, path, "Discarded a matching draft", ["status"])
    return draft
