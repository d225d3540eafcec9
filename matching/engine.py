"""The matching engine: who should mentor whom, and why.

A pure module, no Django: the views and services turn rows into these dataclasses,
call :func:`suggest_mentors` (one mentee, ranked mentors) or :func:`match_cohort` (the
whole cohort at once), and turn the answer back into rows. Keeping it pure lets the
property-based tests compare it with a brute force, and the benchmark run it at
national-programme size without a database.

**Scoring.** A pair's score is in points, at most 100 for the criteria plus bonuses:

* *Criteria*: a mentee's chosen criteria share 100 points between them, in proportion
  to ``weight(code) * (2k - rank)`` for ``k`` chosen codes, ``rank`` from 0. A first
  choice thus counts about twice a last one, and a mentee who ticks many boxes does
  not outweigh one who ticks few. A mentor earns the shares of the codes it offers.
* ``Options.same_trust_bonus`` when both work for the same trust, and
  ``Options.specialism_bonus`` when the mentor covers the mentee's specialism.

Scores are held as integers in hundredths of a point (the shares are rounded by the
largest-remainder method, so a full match is exactly 100), which keeps every total
exact and every tie a real tie.

**Who may be paired.** Never: a mentee with a mentor named in ``exclusions`` or in the
mentee's own ``excluded_mentor_ids`` (conflicts of interest, line management, a pair
the mentee asked to leave), the same person on both sides (same id), a mentor with no
places left, another trust's mentor when ``allow_cross_trust`` is off, and, when
``require_criteria_overlap`` is on, a mentor offering none of the criteria the mentee
chose. A mentee who chose no criteria may be paired with anyone else (with a warning):
they were accepted onto the programme and someone should mentor them.

**What the cohort assignment maximises.** First the number of mentees matched, then the
total score. So a pair that is allowed but scores 0 *is* made when that matches one more
person: for a programme, matching someone is better than leaving them with no one. The
answer is exact: see ``engine_solve`` for the two solvers and how the sparse one proves
its answer optimal.

**Determinism.** People are sorted by id (ints before strings) before anything else, so
the answer depends on the inputs, not on their order; the solvers are deterministic; and
among equally good assignments, the one returned is the solver's choice on that sorted
problem, the same on every run.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from itertools import chain, repeat
from numbers import Integral, Real
from operator import itemgetter
from typing import Literal

import numpy as np

from matching import engine_solve

PersonId = int | str
Method = Literal["auto", "dense", "sparse"]

# Hundredths of a point: scores are integers in this unit inside the engine.
UNIT = 100
CRITERIA_POINTS = 100 * UNIT
# Above this many cells (mentees x places) "auto" stops using the dense solver.
DENSE_CELLS_LIMIT = 250_000
DEFAULT_EXCLUSION_REASON = "conflict of interest"
MAX_BONUS = 1000.0


def _id_key(person_id: PersonId) -> tuple[int, int | str]:
    """Sort ints before strings, so ids of both kinds can share one stable order."""
    return (0, person_id) if isinstance(person_id, int) else (1, person_id)


def _check_id(person_id: object, what: str) -> None:
    if isinstance(person_id, bool) or not isinstance(person_id, int | str):
        raise ValueError(f"{what} id must be an int or a str, not {person_id!r}")


# --- Inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mentee:
    """Someone to be matched.

    ``wanted`` lists criterion codes most wanted first; a repeated code keeps its first
    rank. ``excluded_mentor_ids`` are mentors this mentee must never get.
    """

    id: PersonId
    trust: str | None = None
    specialism: str | None = None
    wanted: tuple[str, ...] = ()
    excluded_mentor_ids: frozenset[PersonId] = frozenset()

    def __post_init__(self) -> None:
        _check_id(self.id, "mentee")
        object.__setattr__(self, "wanted", tuple(dict.fromkeys(self.wanted)))
        object.__setattr__(self, "excluded_mentor_ids", frozenset(self.excluded_mentor_ids))


@dataclass(frozen=True)
class Mentor:
    """Someone who can mentor ``capacity`` more people.

    ``capacity`` is the places left now; ``capacity_total`` (optional) is the yearly
    allowance, used only to say "5 of 8 places left".
    """

    id: PersonId
    trust: str | None = None
    specialisms: frozenset[str] = frozenset()
    offered: frozenset[str] = frozenset()
    capacity: int = 0
    capacity_total: int | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "mentor")
        object.__setattr__(self, "specialisms", frozenset(self.specialisms))
        object.__setattr__(self, "offered", frozenset(self.offered))
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, Integral):
            raise ValueError(f"mentor {self.id!r}: capacity must be an int")
        object.__setattr__(self, "capacity", int(self.capacity))
        if self.capacity < 0:
            raise ValueError(f"mentor {self.id!r}: capacity cannot be negative")


@dataclass(frozen=True)
class Exclusion:
    """A pair that must never be made, and what to tell the person looking at it."""

    mentee_id: PersonId
    mentor_id: PersonId
    reason: str = DEFAULT_EXCLUSION_REASON


@dataclass(frozen=True)
class Options:
    """Programme-level knobs; bonuses are in points, like the 100 criteria points."""

    same_trust_bonus: float = 10.0
    specialism_bonus: float = 20.0
    allow_cross_trust: bool = True
    require_criteria_overlap: bool = True
    # Weight for a criterion code missing from the weights mapping.
    default_weight: float = 1.0

    def __post_init__(self) -> None:
        for name in ("same_trust_bonus", "specialism_bonus", "default_weight"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
        for name in ("same_trust_bonus", "specialism_bonus"):
            # Keeps every score well inside the solvers' integer range.
            if getattr(self, name) > MAX_BONUS:
                raise ValueError(f"{name} must be at most {MAX_BONUS:g} points")


# --- Outputs ----------------------------------------------------------------------


class UnmatchedReason(StrEnum):
    NO_CAPACITY = "no capacity"
    ALL_EXCLUDED = "all excluded"
    NO_CRITERIA_OVERLAP = "no criteria overlap"


class UnavailableReason(StrEnum):
    SAME_PERSON = "same person"
    CONFLICT_OF_INTEREST = DEFAULT_EXCLUSION_REASON
    OTHER_TRUST = "other trust"
    AT_CAPACITY = "at capacity"
    NO_CRITERIA_OVERLAP = "no criteria overlap"


@dataclass(frozen=True)
class Fit:
    """How well one mentor suits one mentee, ignoring exclusions and capacity."""

    score: float
    reasons: tuple[str, ...]
    cross_trust: bool
    # The chosen codes this mentor offers, in the mentee's order of preference.
    criteria_offered: tuple[str, ...]
    criteria_chosen: int
    score_units: int = field(repr=False)


@dataclass(frozen=True)
class Pair:
    mentee_id: PersonId
    mentor_id: PersonId
    score: float
    reasons: tuple[str, ...]
    cross_trust: bool


@dataclass(frozen=True)
class Unmatched:
    mentee_id: PersonId
    reason: UnmatchedReason
    detail: str


@dataclass(frozen=True)
class Assignment:
    """The proposed draft: pairs by mentee id, the unmatched with why, and notes."""

    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    total_score: float
    method: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    mentor_id: PersonId
    score: float
    reasons: tuple[str, ...]
    cross_trust: bool


@dataclass(frozen=True)
class Unavailable:
    mentor_id: PersonId
    reason: str


@dataclass(frozen=True)
class Suggestions:
    """Mentors for one mentee: best first, then those that cannot be chosen and why."""

    mentee_id: PersonId
    ranked: tuple[Suggestion, ...]
    unavailable: tuple[Unavailable, ...]
    warnings: tuple[str, ...] = ()


class DuplicateIdError(ValueError):
    """The same id appears twice on one side; the ids are kept so a caller can drop them."""

    def __init__(self, mentee_ids: Sequence[PersonId], mentor_ids: Sequence[PersonId]):
        self.mentee_ids = tuple(mentee_ids)
        self.mentor_ids = tuple(mentor_ids)
        parts = []
        if self.mentee_ids:
            parts.append("mentees " + ", ".join(map(str, self.mentee_ids)))
        if self.mentor_ids:
            parts.append("mentors " + ", ".join(map(str, self.mentor_ids)))
        super().__init__("duplicate ids, each listed more than once: " + "; ".join(parts))


# --- Scoring ----------------------------------------------------------------------


def _check_weights(weights: Mapping[str, float] | None) -> Mapping[str, float]:
    weights = weights or {}
    bad = sorted(
        str(code)
        for code, w in weights.items()
        if isinstance(w, bool) or not isinstance(w, Real) or not math.isfinite(w) or w < 0
    )
    if bad:
        raise ValueError("criterion weights must be finite numbers >= 0: " + ", ".join(bad))
    return weights


def _shares(
    wanted: tuple[str, ...], weights: Mapping[str, float], default_weight: float
) -> tuple[int, ...]:
    """Split the criteria points over a mentee's chosen codes, largest remainder first.

    Integer shares that add up to exactly ``CRITERIA_POINTS`` (or all 0 when every
    chosen code weighs 0), so a pair's criteria score is an exact integer sum.
    ``_shares_bulk`` does the same float operations in the same order, column by column.
    """
    k = len(wanted)
    raw = [weights.get(code, default_weight) * (2 * k - rank) for rank, code in enumerate(wanted)]
    total = 0.0
    for r in raw:
        total += r
    if total <= 0:
        return (0,) * k
    quotas = [CRITERIA_POINTS * r / total for r in raw]
    shares = [math.floor(q) for q in quotas]
    short = CRITERIA_POINTS - sum(shares)
    by_remainder = sorted(range(k), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[:short]:
        shares[i] += 1
    return tuple(shares)


def _shares_bulk(
    wanted_lists: Iterable[tuple[str, ...]], weights: Mapping[str, float], default_weight: float
) -> dict[tuple[str, ...], tuple[int, ...]]:
    """``_shares`` for every distinct list at once, with numpy, grouped by length."""
    by_length: dict[int, list[tuple[str, ...]]] = {}
    for wanted in dict.fromkeys(wanted_lists):
        by_length.setdefault(len(wanted), []).append(wanted)
    out: dict[tuple[str, ...], tuple[int, ...]] = {}
    for k, group in by_length.items():
        if k == 0:
            out[()] = ()
            continue
        w = np.array([[weights.get(c, default_weight) for c in g] for g in group], dtype=float)
        raw = w * (2 * k - np.arange(k))
        total = np.zeros(len(group))
        for column in raw.T:
            total += column
        positive = total > 0
        quotas = CRITERIA_POINTS * raw[positive] / total[positive, None]
        floors = np.floor(quotas)
        short = CRITERIA_POINTS - floors.sum(axis=1)
        order = np.argsort(-(quotas - floors), axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(k), axis=1)
        shares = np.zeros((len(group), k), dtype=np.int64)
        shares[positive] = floors + (rank < short[:, None])
        out.update(zip(group, map(tuple, shares.tolist()), strict=True))
    return out


def _units(points: float) -> int:
    return round(points * UNIT)


def _bonus_units(options: Options) -> tuple[int, int]:
    return _units(options.same_trust_bonus), _units(options.specialism_bonus)


def _trust_relation(mentee: Mentee, mentor: Mentor) -> str | None:
    """Say whether two people share a trust; None when either trust is unknown."""
    if mentee.trust is None or mentor.trust is None:
        return None
    return "same" if mentee.trust == mentor.trust else "cross"


@lru_cache(maxsize=4096)
def _reason_text(
    trust: str | None, specialism: str | None, offered: int, chosen: int
) -> tuple[str, ...]:
    """The plain-English reasons; few distinct ones exist, so they are built once each."""
    reasons = []
    if trust == "same":
        reasons.append("same trust")
    elif trust == "cross":
        reasons.append("cross-trust")
    if specialism is not None:
        reasons.append(f"specialism: {specialism}")
    if chosen == 0:
        reasons.append("no criteria chosen")
    elif offered == 0:
        reasons.append(f"none of {chosen} chosen criteria offered")
    else:
        reasons.append(f"{offered} of {chosen} chosen criteria offered")
    return tuple(reasons)


def _shared_specialism(mentee: Mentee, mentor: Mentor) -> str | None:
    return mentee.specialism if mentee.specialism in mentor.specialisms else None


def _explain(
    mentee: Mentee, mentor: Mentor, shares: tuple[int, ...], bonus: tuple[int, int]
) -> tuple[int, tuple[str, ...], bool, tuple[str, ...]]:
    """The scoring rule, one pair at a time: (score units, reasons, cross-trust, chosen
    codes offered). ``engine_solve.score_matrix`` computes the same sums in bulk, and
    the tests hold the two to the same numbers.
    """
    trust = _trust_relation(mentee, mentor)
    specialism = _shared_specialism(mentee, mentor)
    units = (bonus[0] if trust == "same" else 0) + (bonus[1] if specialism is not None else 0)
    offered = []
    for code, share in zip(mentee.wanted, shares, strict=True):
        if code in mentor.offered:
            offered.append(code)
            units += share
    reasons = _reason_text(trust, specialism, len(offered), len(mentee.wanted))
    return units, reasons, trust == "cross", tuple(offered)


def score_pair(
    mentee: Mentee,
    mentor: Mentor,
    weights: Mapping[str, float] | None = None,
    options: Options | None = None,
) -> Fit:
    """Score one pair and say why in words; the same scoring the cohort solver uses."""
    options = options or Options()
    weights = _check_weights(weights)
    shares = _shares(mentee.wanted, weights, options.default_weight)
    units, reasons, cross_trust, offered = _explain(mentee, mentor, shares, _bonus_units(options))
    return Fit(
        score=units / UNIT,
        reasons=reasons,
        cross_trust=cross_trust,
        criteria_offered=offered,
        criteria_chosen=len(mentee.wanted),
        score_units=units,
    )


# --- Shared checks ----------------------------------------------------------------


def _duplicates(ids: Iterable[PersonId]) -> list[PersonId]:
    return sorted((i for i, c in Counter(ids).items() if c > 1), key=_id_key)


def _exclusion_map(
    exclusions: Iterable[Exclusion | tuple[PersonId, PersonId]],
) -> dict[tuple[PersonId, PersonId], str]:
    """Exclusions keyed by (mentee id, mentor id); the first reason given wins."""
    found: dict[tuple[PersonId, PersonId], str] = {}
    for item in exclusions:
        if isinstance(item, Exclusion):
            found.setdefault((item.mentee_id, item.mentor_id), item.reason)
        else:
            mentee_id, mentor_id = item
            found.setdefault((mentee_id, mentor_id), DEFAULT_EXCLUSION_REASON)
    return found


def _block_reason(
    mentee: Mentee,
    mentor: Mentor,
    excluded: Mapping[tuple[PersonId, PersonId], str],
    options: Options,
) -> str | None:
    """Why this pair may not be made regardless of places and criteria, or None."""
    if mentee.id == mentor.id:
        return UnavailableReason.SAME_PERSON.value
    reason = excluded.get((mentee.id, mentor.id))
    if reason is not None:
        return reason
    if mentor.id in mentee.excluded_mentor_ids:
        return DEFAULT_EXCLUSION_REASON
    if not options.allow_cross_trust and (mentee.trust is None or mentee.trust != mentor.trust):
        return UnavailableReason.OTHER_TRUST.value
    return None


def _lacks_overlap(mentee: Mentee, mentor: Mentor, options: Options) -> bool:
    return (
        options.require_criteria_overlap
        and bool(mentee.wanted)
        and mentor.offered.isdisjoint(mentee.wanted)
    )


def _weight_warnings(weights: Mapping[str, float], wanted: set[str], options: Options) -> list[str]:
    notes = []
    if wanted and all(weights.get(c, options.default_weight) == 0 for c in wanted):
        notes.append("all criterion weights are zero: criteria do not change scores")
    unweighted = sorted(c for c in wanted if c not in weights)
    if weights and unweighted:
        notes.append(
            f"criteria without a weight count {options.default_weight:g}: " + ", ".join(unweighted)
        )
    return notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _listing(ids: Sequence[PersonId], limit: int = 20) -> str:
    """Ids for a message, cut short: a warning is read, not searched."""
    shown = ", ".join(map(str, ids[:limit]))
    return shown if len(ids) <= limit else f"{shown} and {len(ids) - limit} more"


def _capacity_reason(mentor: Mentor) -> str:
    if mentor.capacity_total is not None:
        return f"capacity: {mentor.capacity} of {mentor.capacity_total} places left"
    return f"capacity: {mentor.capacity} places left"


# --- One mentee -------------------------------------------------------------------


def suggest_mentors(
    mentee: Mentee,
    mentors: Sequence[Mentor],
    weights: Mapping[str, float] | None = None,
    exclusions: Iterable[Exclusion | tuple[PersonId, PersonId]] = (),
    options: Options | None = None,
    *,
    limit: int | None = None,
) -> Suggestions:
    """Rank every mentor for one mentee, for a lead nurse assigning by hand.

    Uses the cohort's scoring and rules, so whatever is suggested is a pair the cohort
    solver could make; the rest are listed as unavailable with the reason. Ties rank by
    mentor id.
    """
    options = options or Options()
    weights = _check_weights(weights)
    duplicates = _duplicates(m.id for m in mentors)
    if duplicates:
        raise DuplicateIdError((), duplicates)
    excluded = _exclusion_map(exclusions)
    shares = _shares(mentee.wanted, weights, options.default_weight)
    bonus = _bonus_units(options)
    ranked: list[tuple[int, tuple[int, int | str], Suggestion]] = []
    unavailable: list[Unavailable] = []
    for mentor in sorted(mentors, key=lambda m: _id_key(m.id)):
        reason = _block_reason(mentee, mentor, excluded, options)
        if reason is None and mentor.capacity == 0:
            reason = UnavailableReason.AT_CAPACITY.value
        if reason is None and _lacks_overlap(mentee, mentor, options):
            reason = UnavailableReason.NO_CRITERIA_OVERLAP.value
        if reason is not None:
            unavailable.append(Unavailable(mentor.id, reason))
            continue
        units, reasons, cross_trust, _ = _explain(mentee, mentor, shares, bonus)
        suggestion = Suggestion(
            mentor_id=mentor.id,
            score=units / UNIT,
            reasons=(*reasons, _capacity_reason(mentor)),
            cross_trust=cross_trust,
        )
        ranked.append((-units, _id_key(mentor.id), suggestion))
    ranked.sort(key=lambda r: r[:2])
    warnings = _weight_warnings(weights, set(mentee.wanted), options)
    if not mentee.wanted:
        warnings.append("the mentee chose no criteria: ranked on trust and specialism only")
    return Suggestions(
        mentee_id=mentee.id,
        ranked=tuple(s for *_, s in ranked[:limit]),
        unavailable=tuple(unavailable),
        warnings=tuple(warnings),
    )


# --- The whole cohort -------------------------------------------------------------


def match_cohort(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    weights: Mapping[str, float] | None = None,
    exclusions: Iterable[Exclusion | tuple[PersonId, PersonId]] = (),
    options: Options | None = None,
    *,
    method: Method = "auto",
) -> Assignment:
    """Propose the assignment that matches the most mentees, then scores highest.

    ``method`` picks the solver: "dense" (``linear_sum_assignment`` over a full matrix,
    memory ``mentees x places``), "sparse" (a min-cost flow on a pruned graph, proved
    optimal), or "auto": dense while small, sparse beyond. All give the same total.

    Raises :class:`DuplicateIdError` (a ``ValueError``) when an id repeats on one side,
    and ``ValueError`` for weights that are negative or not finite. Everything else
    that looks wrong (a mentor with no places, a mentee with no criteria, weights all
    zero) is handled and reported in ``warnings`` or ``unmatched``; an exclusion that
    names someone not in the cohort is ignored, as org-wide lists will.
    """
    options = options or Options()
    weights = _check_weights(weights)
    dup_mentees = _duplicates(m.id for m in mentees)
    dup_mentors = _duplicates(m.id for m in mentors)
    if dup_mentees or dup_mentors:
        raise DuplicateIdError(dup_mentees, dup_mentors)
    if method not in ("auto", "dense", "sparse"):
        raise ValueError(f"unknown method {method!r}: use 'auto', 'dense' or 'sparse'")
    exclusions = list(exclusions)

    mentees = sorted(mentees, key=lambda m: _id_key(m.id))
    mentors = sorted(mentors, key=lambda m: _id_key(m.id))
    n, m = len(mentees), len(mentors)
    shares_of = _shares_bulk((e.wanted for e in mentees), weights, options.default_weight)
    scores = _score_matrix(mentees, mentors, shares_of, options)
    rows, cols = _excluded_cells(mentees, mentors, exclusions)
    scores[rows, cols] = engine_solve.INELIGIBLE

    capacity = np.fromiter((r.capacity for r in mentors), dtype=np.int64, count=m)
    if method == "auto":
        cells = n * int(np.minimum(capacity, n).sum())
        method = "dense" if cells <= DENSE_CELLS_LIMIT else "sparse"
    solve = engine_solve.solve_dense if method == "dense" else engine_solve.solve_sparse
    mentor_of = solve(scores, capacity)

    # The solver's own scores, and reasons from the same facts as ``_explain``: a
    # cohort has thousands of pairs and only a few dozen distinct reason lists.
    matched = np.nonzero(mentor_of >= 0)[0]
    partner = mentor_of[matched]
    pair_units = scores[matched, partner].astype(np.int64)
    pairs = []
    for i, j, units in zip(matched.tolist(), partner.tolist(), pair_units.tolist(), strict=True):
        mentee, mentor = mentees[i], mentors[j]
        trust = _trust_relation(mentee, mentor)
        offered = len(mentor.offered.intersection(mentee.wanted))
        reasons = _reason_text(
            trust, _shared_specialism(mentee, mentor), offered, len(mentee.wanted)
        )
        pairs.append(Pair(mentee.id, mentor.id, units / UNIT, reasons, trust == "cross"))
    total_units = int(pair_units.sum())

    unmatched = _explain_unmatched(
        np.nonzero(mentor_of < 0)[0], mentees, mentors, scores, exclusions, options
    )
    return Assignment(
        pairs=tuple(pairs),
        unmatched=tuple(unmatched),
        total_score=total_units / UNIT,
        method=method,
        warnings=tuple(_cohort_warnings(mentees, mentors, weights, options)),
    )


def _incidence(members: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) index arrays of a ragged list of column lists."""
    counts = np.fromiter(map(len, members), dtype=np.int64, count=len(members))
    cols = np.fromiter(chain.from_iterable(members), dtype=np.int64, count=int(counts.sum()))
    return np.repeat(np.arange(len(members)), counts), cols


def _bit_words(members: Sequence[Sequence[int]], n_bits: int) -> np.ndarray:
    """Sets of small ints as rows of 63-bit words, for a fast "any in common" test."""
    words = np.zeros((len(members), -(-n_bits // 63)), dtype=np.int64)
    rows, bits = _incidence(members)
    np.bitwise_or.at(words, (rows, bits // 63), np.left_shift(1, bits % 63))
    return words


def _score_matrix(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    shares_of: Mapping[tuple[str, ...], tuple[int, ...]],
    options: Options,
) -> np.ndarray:
    """Lay the people out as feature matrices and score every pair (see ``score_matrix``).

    Columns: one per criterion code (mentee: its share; mentor: 1 if offered), then,
    when the bonus is not 0, one per trust (mentee: the bonus; mentor: 1 for its own)
    and one per specialism (mentee: the bonus; mentor: 1 for each it covers).
    """
    n, m = len(mentees), len(mentors)
    codes = sorted({c for e in mentees for c in e.wanted} | {c for r in mentors for c in r.offered})
    code_index = {c: k for k, c in enumerate(codes)}
    n_codes = len(codes)
    same_trust, specialism = _bonus_units(options)
    trusts = sorted({p.trust for p in (*mentees, *mentors)} - {None})
    trust_index = {t: k for k, t in enumerate(trusts)}
    specs = sorted({e.specialism for e in mentees} - {None})
    spec_index = {s: k for k, s in enumerate(specs)}
    n_trusts = len(trusts) if same_trust else 0
    n_specs = len(specs) if specialism else 0
    trust_col, spec_col = n_codes, n_codes + n_trusts

    wanted = [[code_index[c] for c in e.wanted] for e in mentees]
    offered = [[code_index[c] for c in r.offered] for r in mentors]
    mentee_trust = np.array([trust_index.get(e.trust, -1) for e in mentees], dtype=np.int64)
    mentor_trust = np.array([trust_index.get(r.trust, -2) for r in mentors], dtype=np.int64)

    left = np.zeros((n, n_codes + n_trusts + n_specs), dtype=np.float64)
    rows, cols = _incidence(wanted)
    left[rows, cols] = np.fromiter(
        chain.from_iterable(shares_of[e.wanted] for e in mentees), dtype=np.float64, count=rows.size
    )
    right = np.zeros((m, left.shape[1]), dtype=np.float64)
    right[_incidence(offered)] = 1
    if n_trusts:
        for side, trust, value in ((left, mentee_trust, same_trust), (right, mentor_trust, 1)):
            known = np.nonzero(trust >= 0)[0]
            side[known, trust_col + trust[known]] = value
    if n_specs:
        mentee_spec = np.array([spec_index.get(e.specialism, -1) for e in mentees])
        known = np.nonzero(mentee_spec >= 0)[0]
        left[known, spec_col + mentee_spec[known]] = specialism
        rows, cols = _incidence(
            [[spec_index[s] for s in r.specialisms if s in spec_index] for r in mentors]
        )
        right[rows, spec_col + cols] = 1

    wanted_bits = offered_bits = None
    if options.require_criteria_overlap:
        # One bit per code, plus an "anyone" bit that every mentor has and only the
        # mentees who chose nothing want: they need no overlap.
        anyone = [n_codes]
        wanted_bits = _bit_words([w or anyone for w in wanted], n_codes + 1)
        offered_bits = _bit_words([o + anyone for o in offered], n_codes + 1)

    # Unknown trusts (-1 and -2) equal nothing, not even each other.
    same_trust_only = not options.allow_cross_trust
    return engine_solve.score_matrix(
        left,
        right,
        wanted_bits,
        offered_bits,
        mentee_trust if same_trust_only else None,
        mentor_trust if same_trust_only else None,
    )


def _excluded_cells(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    exclusions: Sequence[Exclusion | tuple[PersonId, PersonId]],
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every pair excluded, or pairing a person with themself.

    A national cohort can carry hundreds of thousands of exclusions, so ids are looked
    up in bulk: by binary search when they are all ints (the usual case: primary
    keys), else through dicts with ``map``. Ids nobody has are ignored.
    """
    own = [(e.id, mentor_id) for e in mentees for mentor_id in e.excluded_mentor_ids]
    own += [(e.id, e.id) for e in mentees]
    try:
        flat = np.fromiter(chain.from_iterable(exclusions), dtype=np.int64)
        ids = flat.reshape(-1, 2)
        rows = _positions_of_ints([e.id for e in mentees], ids[:, 0])
        cols = _positions_of_ints([r.id for r in mentors], ids[:, 1])
    except (TypeError, ValueError, OverflowError):
        # Exclusion objects, str ids, or odd shapes: the general way.
        rows = cols = np.zeros(0, dtype=np.int64)
        own += [(x.mentee_id, x.mentor_id) if isinstance(x, Exclusion) else x for x in exclusions]
    row_of = {e.id: i for i, e in enumerate(mentees)}
    col_of = {r.id: j for j, r in enumerate(mentors)}
    own_rows = np.fromiter(map(row_of.get, map(itemgetter(0), own), repeat(-1)), dtype=np.int64)
    own_cols = np.fromiter(map(col_of.get, map(itemgetter(1), own), repeat(-1)), dtype=np.int64)
    all_rows, all_cols = np.concatenate([rows, own_rows]), np.concatenate([cols, own_cols])
    known = (all_rows >= 0) & (all_cols >= 0)
    return all_rows[known], all_cols[known]


def _positions_of_ints(ids: Sequence[PersonId], wanted: np.ndarray) -> np.ndarray:
    """Where each wanted int id sits in ``ids`` (sorted by ``_id_key``), or -1.

    Primary keys are usually dense, so a lookup table is the fast way; sparse ones
    fall back to binary search.
    """
    int_ids = np.array([i for i in ids if isinstance(i, int)], dtype=np.int64)
    if int_ids.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    low, span = int(int_ids[0]), int(int_ids[-1] - int_ids[0]) + 1
    if span <= 4 * int_ids.size + 1024:
        table = np.full(span, -1, dtype=np.int64)
        table[int_ids - low] = np.arange(int_ids.size)
        offset = wanted - low
        inside = (offset >= 0) & (offset < span)
        return np.where(inside, table[np.where(inside, offset, 0)], -1)
    at = np.minimum(np.searchsorted(int_ids, wanted), int_ids.size - 1)
    return np.where(int_ids[at] == wanted, at, -1)


def _explain_unmatched(
    rows: np.ndarray,
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    scores: np.ndarray,
    exclusions: Sequence[Exclusion | tuple[PersonId, PersonId]],
    options: Options,
) -> list[Unmatched]:
    """Say why each unmatched mentee is unmatched.

    A mentee with an allowed mentor can only be unmatched because every such mentor is
    full: the optimum would otherwise have used the place. For the rest, the rules are
    checked in order: excluded by every mentor, then no mentor offering any chosen
    criterion.
    """
    if rows.size == 0:
        return []
    suitable = (scores[rows] >= 0).sum(axis=1).tolist()
    excluded: dict[tuple[PersonId, PersonId], str] | None = None
    out = []
    for i, n_suitable in zip(rows.tolist(), suitable, strict=True):
        mentee = mentees[i]
        if n_suitable:
            detail = f"every suitable mentor is full ({_count(n_suitable, 'mentor')})"
            out.append(Unmatched(mentee.id, UnmatchedReason.NO_CAPACITY, detail))
            continue
        if not mentors:
            out.append(Unmatched(mentee.id, UnmatchedReason.NO_CAPACITY, "there are no mentors"))
            continue
        if excluded is None:
            excluded = _exclusion_map(exclusions)
        open_to = sum(_block_reason(mentee, r, excluded, options) is None for r in mentors)
        if open_to:
            detail = (
                f"no available mentor offers any of the chosen criteria "
                f"({_count(open_to, 'mentor')} available)"
            )
            out.append(Unmatched(mentee.id, UnmatchedReason.NO_CRITERIA_OVERLAP, detail))
        elif not options.allow_cross_trust and all(
            mentee.trust is None or r.trust != mentee.trust for r in mentors
        ):
            detail = "no mentor works in the same trust, and cross-trust matching is off"
            out.append(Unmatched(mentee.id, UnmatchedReason.ALL_EXCLUDED, detail))
        else:
            detail = f"every mentor is excluded for this mentee ({_count(len(mentors), 'mentor')})"
            out.append(Unmatched(mentee.id, UnmatchedReason.ALL_EXCLUDED, detail))
    return out


def _cohort_warnings(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    weights: Mapping[str, float],
    options: Options,
) -> list[str]:
    notes = []
    full = [r.id for r in mentors if r.capacity == 0]
    if full:
        notes.append(f"{_count(len(full), 'mentor')} with no places left: {_listing(full)}")
    no_criteria = [e.id for e in mentees if not e.wanted]
    if no_criteria:
        notes.append(
            f"{_count(len(no_criteria), 'mentee')} with no criteria chosen, matched on trust "
            f"and specialism only: {_listing(no_criteria)}"
        )
    notes += _weight_warnings(weights, {c for e in mentees for c in e.wanted}, options)
    return notes
