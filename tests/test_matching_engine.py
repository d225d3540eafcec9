"""The matching engine: exact, deterministic, explained, and calm about bad input.

Pure-Python tests (no database). The property tests check the solvers against a brute
force on small cohorts and against each other on medium ones; the rest pin down the
rules a lead nurse or an admin will see.
"""

from __future__ import annotations

import random
import subprocess
import sys
from itertools import product
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import engine, engine_solve
from matching.engine import (
    DuplicateIdError,
    Exclusion,
    Mentee,
    Mentor,
    Options,
    UnmatchedReason,
    match_cohort,
    score_pair,
    suggest_mentors,
)

CODES = ("coaching", "research", "leadership", "wellbeing")
TRUSTS = ("north", "south", None)
SITES = ("lung", "breast", None)


# --- A brute force to compare with ------------------------------------------------


def blocked(mentee: Mentee, mentor: Mentor, exclusions, options: Options) -> bool:
    """The hard rules, restated independently of the engine."""
    if mentee.id == mentor.id:
        return True
    if (mentee.id, mentor.id) in exclusions or mentor.id in mentee.excluded_mentor_ids:
        return True
    return not options.allow_cross_trust and (mentee.trust is None or mentee.trust != mentor.trust)


def overlaps(mentee: Mentee, mentor: Mentor, options: Options) -> bool:
    if not options.require_criteria_overlap or not mentee.wanted:
        return True
    return bool(set(mentee.wanted) & mentor.offered)


def allowed(mentee: Mentee, mentor: Mentor, exclusions, options: Options) -> bool:
    return (
        mentor.capacity > 0
        and not blocked(mentee, mentor, exclusions, options)
        and overlaps(mentee, mentor, options)
    )


def expected_reason(mentee, mentors, exclusions, options) -> UnmatchedReason:
    open_to = [m for m in mentors if not blocked(mentee, m, exclusions, options)]
    if mentors and not open_to:
        return UnmatchedReason.ALL_EXCLUDED
    if mentors and not [m for m in open_to if overlaps(mentee, m, options)]:
        return UnmatchedReason.NO_CRITERIA_OVERLAP
    return UnmatchedReason.NO_CAPACITY


def brute_force(mentees, mentors, weights, exclusions, options) -> tuple[int, int]:
    """Best (number matched, total score units) over every possible assignment."""
    choices = []
    for mentee in mentees:
        options_for = [None]
        for j, mentor in enumerate(mentors):
            if allowed(mentee, mentor, exclusions, options):
                fit = score_pair(mentee, mentor, weights, options)
                options_for.append((j, fit.score_units))
        choices.append(options_for)
    best = (0, 0)
    for combo in product(*choices):
        load = [0] * len(mentors)
        count = total = 0
        for pick in combo:
            if pick is not None:
                load[pick[0]] += 1
                count += 1
                total += pick[1]
        if all(load[j] <= m.capacity for j, m in enumerate(mentors)):
            best = max(best, (count, total))
    return best


def units(assignment) -> int:
    return sum(round(p.score * 100) for p in assignment.pairs)


def check_feasible(assignment, mentees, mentors, weights, exclusions, options) -> None:
    by_id = {m.id: m for m in mentors}
    mentee_by_id = {m.id: m for m in mentees}
    load: dict = {}
    for pair in assignment.pairs:
        mentee, mentor = mentee_by_id[pair.mentee_id], by_id[pair.mentor_id]
        assert allowed(mentee, mentor, exclusions, options)
        fit = score_pair(mentee, mentor, weights, options)
        assert (pair.score, pair.reasons, pair.cross_trust) == (
            fit.score,
            fit.reasons,
            fit.cross_trust,
        )
        load[mentor.id] = load.get(mentor.id, 0) + 1
    assert all(load[i] <= by_id[i].capacity for i in load)
    seen = [p.mentee_id for p in assignment.pairs] + [u.mentee_id for u in assignment.unmatched]
    assert sorted(seen, key=str) == sorted(mentee_by_id, key=str)
    assert round(assignment.total_score * 100) == units(assignment)
    for unmatched in assignment.unmatched:
        mentee = mentee_by_id[unmatched.mentee_id]
        assert unmatched.reason is expected_reason(mentee, mentors, exclusions, options)
        # Nobody is left out while a mentor they may have still has a place.
        assert not [
            m
            for m in mentors
            if allowed(mentee, m, exclusions, options) and load.get(m.id, 0) < m.capacity
        ]


# --- Strategies -------------------------------------------------------------------


@st.composite
def small_cohorts(draw):
    """Up to 5 mentees and 3 mentors; ids overlap so someone can be on both sides."""
    mentee_ids = draw(st.lists(st.integers(0, 6), max_size=5, unique=True))
    mentor_ids = draw(st.lists(st.integers(0, 6), max_size=3, unique=True))
    mentees = [
        Mentee(
            id=i,
            trust=draw(st.sampled_from(TRUSTS)),
            specialism=draw(st.sampled_from(SITES)),
            wanted=tuple(draw(st.permutations(CODES))[: draw(st.integers(0, 4))]),
            excluded_mentor_ids=frozenset(draw(st.sets(st.sampled_from(mentor_ids or [0])))),
        )
        for i in mentee_ids
    ]
    mentors = [
        Mentor(
            id=i,
            trust=draw(st.sampled_from(TRUSTS)),
            specialisms=frozenset(draw(st.sets(st.sampled_from(SITES[:2])))),
            offered=frozenset(draw(st.sets(st.sampled_from(CODES)))),
            capacity=draw(st.integers(0, 2)),
        )
        for i in mentor_ids
    ]
    weights = {
        c: draw(st.sampled_from([0, 0.5, 1, 3])) for c in draw(st.sets(st.sampled_from(CODES)))
    }
    exclusions = set(draw(st.sets(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=4)))
    options = Options(
        same_trust_bonus=draw(st.sampled_from([0, 10])),
        specialism_bonus=draw(st.sampled_from([0, 20, 7.5])),
        allow_cross_trust=draw(st.booleans()),
        require_criteria_overlap=draw(st.booleans()),
    )
    return mentees, mentors, weights, exclusions, options


def random_cohort(seed: int, n_mentees: int = 60, n_mentors: int = 12, capacity=(0, 6)):
    """A medium random cohort; capacities are sometimes short, so some go unmatched."""
    rng = random.Random(seed)
    codes = [f"c{k}" for k in range(8)]
    mentees = [
        Mentee(
            id=i,
            trust=rng.choice(["a", "b", "c"]),
            specialism=rng.choice(["lung", "skin", "blood", None]),
            wanted=tuple(rng.sample(codes, rng.randint(0, 4))),
        )
        for i in range(n_mentees)
    ]
    mentors = [
        Mentor(
            id=f"m{j}",
            trust=rng.choice(["a", "b", "c"]),
            specialisms=frozenset(rng.sample(["lung", "skin", "blood"], rng.randint(0, 2))),
            offered=frozenset(rng.sample(codes, rng.randint(1, 5))),
            capacity=rng.randint(*capacity),
        )
        for j in range(n_mentors)
    ]
    weights = {c: rng.choice([0, 1, 2, 5]) for c in codes}
    exclusions = [(e.id, r.id) for e in mentees for r in mentors if rng.random() < 0.1]
    return mentees, mentors, weights, exclusions


# --- Exactness --------------------------------------------------------------------


@settings(max_examples=250, deadline=None)
@given(small_cohorts())
def test_both_solvers_reach_the_brute_force_optimum(cohort):
    mentees, mentors, weights, exclusions, options = cohort
    best = brute_force(mentees, mentors, weights, exclusions, options)
    for method in ("dense", "sparse"):
        result = match_cohort(mentees, mentors, weights, exclusions, options, method=method)
        check_feasible(result, mentees, mentors, weights, exclusions, options)
        assert (len(result.pairs), units(result)) == best


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    cross_trust=st.booleans(),
    first_round_k=st.sampled_from([1, 2, engine_solve.FIRST_ROUND_K]),
)
def test_sparse_matches_dense_on_medium_cohorts(seed, cross_trust, first_round_k):
    mentees, mentors, weights, exclusions = random_cohort(seed)
    options = Options(allow_cross_trust=cross_trust)
    dense = match_cohort(mentees, mentors, weights, exclusions, options, method="dense")
    # A small first round forces the pricing step to find the missing pairs.
    with patch.object(engine_solve, "FIRST_ROUND_K", first_round_k):
        sparse = match_cohort(mentees, mentors, weights, exclusions, options, method="sparse")
    assert (len(sparse.pairs), units(sparse)) == (len(dense.pairs), units(dense))
    check_feasible(sparse, mentees, mentors, weights, set(exclusions), options)
    check_feasible(dense, mentees, mentors, weights, set(exclusions), options)


def test_pricing_rounds_reach_the_dense_optimum_on_a_contested_cohort(monkeypatch):
    # Many mentees, few places, one candidate each at first: several rounds are needed.
    monkeypatch.setattr(engine_solve, "FIRST_ROUND_K", 1)
    mentees, mentors, weights, exclusions = random_cohort(7, 300, 40, capacity=(0, 5))
    dense = match_cohort(mentees, mentors, weights, exclusions, method="dense")
    sparse = match_cohort(mentees, mentors, weights, exclusions, method="sparse")
    assert (len(sparse.pairs), units(sparse)) == (len(dense.pairs), units(dense))
    assert sparse.unmatched


def test_the_bulk_score_matrix_agrees_with_scoring_one_pair_at_a_time():
    mentees, mentors, weights, _ = random_cohort(3, 40, 10)
    options = Options(specialism_bonus=12.5, require_criteria_overlap=False)
    shares = {e.wanted: engine._shares(e.wanted, weights, 1.0) for e in mentees}
    matrix = engine._score_matrix(mentees, mentors, shares, options)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            assert matrix[i, j] == score_pair(mentee, mentor, weights, options).score_units


@settings(max_examples=100, deadline=None)
@given(
    weights=st.dictionaries(
        st.sampled_from(CODES), st.floats(0, 1000, allow_nan=False) | st.sampled_from([0, 1 / 3])
    ),
    lists=st.lists(st.permutations(CODES).map(tuple), max_size=6),
    cut=st.lists(st.integers(0, 4), min_size=6, max_size=6),
    default=st.sampled_from([0.0, 1.0, 0.7]),
)
def test_bulk_shares_equal_one_at_a_time_shares_and_add_up_to_100_points(
    weights, lists, cut, default
):
    lists = [whole[:k] for whole, k in zip(lists, cut, strict=False)]
    bulk = engine._shares_bulk(lists, weights, default)
    for wanted in lists:
        assert bulk[wanted] == engine._shares(wanted, weights, default)
        assert sum(bulk[wanted]) in (0, engine.CRITERIA_POINTS)


# --- What gets maximised ----------------------------------------------------------


def test_matching_one_more_person_beats_a_higher_total():
    star = Mentor(id="star", offered=frozenset({"coaching", "research"}), capacity=1)
    anyone = Mentor(id="anyone", offered=frozenset({"research"}), capacity=1)
    picky = Mentee(id="picky", wanted=("coaching",))  # only the star offers coaching
    flexible = Mentee(id="flexible", wanted=("coaching", "research"))
    result = match_cohort([picky, flexible], [star, anyone], method="sparse")
    assert {(p.mentee_id, p.mentor_id) for p in result.pairs} == {
        ("picky", "star"),
        ("flexible", "anyone"),
    }


def test_a_pair_scoring_zero_is_still_made_rather_than_leave_someone_unmatched():
    mentee = Mentee(id=1, wanted=("coaching",))
    mentor = Mentor(id=2, offered=frozenset({"coaching"}), capacity=1)
    options = Options(same_trust_bonus=0, specialism_bonus=0)
    result = match_cohort([mentee], [mentor], {"coaching": 0}, options=options)
    assert [(p.mentee_id, p.mentor_id, p.score) for p in result.pairs] == [(1, 2, 0.0)]


def test_a_full_match_is_worth_exactly_100_points_and_a_first_choice_about_twice_a_last():
    mentee = Mentee(id=1, wanted=("a", "b", "c"))
    full = Mentor(id=2, offered=frozenset({"a", "b", "c"}))
    assert score_pair(mentee, full, {"a": 1, "b": 1, "c": 1}).score == 100.0
    first = score_pair(mentee, Mentor(id=3, offered=frozenset({"a"}))).score
    last = score_pair(mentee, Mentor(id=4, offered=frozenset({"c"}))).score
    assert first / last == pytest.approx(6 / 4, rel=1e-3)


# --- Determinism ------------------------------------------------------------------


def test_the_same_cohort_gives_the_same_answer_in_any_order():
    mentees, mentors, weights, exclusions = random_cohort(11, 80, 15)
    first = match_cohort(mentees, mentors, weights, exclusions, method="sparse")
    again = match_cohort(mentees, mentors, weights, exclusions, method="sparse")
    rng = random.Random(5)
    shuffled = (
        rng.sample(mentees, len(mentees)),
        rng.sample(mentors, len(mentors)),
        dict(reversed(list(weights.items()))),
        rng.sample(exclusions, len(exclusions)),
    )
    reordered = match_cohort(*shuffled, method="sparse")
    assert first == again == reordered
    assert [p.mentee_id for p in first.pairs] == sorted(p.mentee_id for p in first.pairs)


def test_dense_is_deterministic_too():
    mentees, mentors, weights, exclusions = random_cohort(12)
    runs = {match_cohort(mentees, mentors, weights, exclusions, method="dense") for _ in range(3)}
    assert len(runs) == 1


def test_auto_uses_the_dense_solver_for_small_cohorts_and_the_sparse_one_for_large():
    mentees, mentors, weights, exclusions = random_cohort(1, 10, 3)
    assert match_cohort(mentees, mentors, weights, exclusions).method == "dense"
    mentees, mentors, weights, exclusions = random_cohort(1, 400, 80, capacity=(8, 8))
    assert match_cohort(mentees, mentors, weights, exclusions).method == "sparse"


# --- Bad input --------------------------------------------------------------------


def test_a_mentor_with_no_places_gets_nobody_and_is_reported():
    mentees = [Mentee(id=1, wanted=("a",)), Mentee(id=2, wanted=("a",))]
    mentors = [
        Mentor(id=10, offered=frozenset("a"), capacity=0),
        Mentor(id=11, offered=frozenset("a"), capacity=1),
    ]
    result = match_cohort(mentees, mentors)
    assert [(p.mentee_id, p.mentor_id) for p in result.pairs] == [(1, 11)]
    assert result.unmatched[0].reason is UnmatchedReason.NO_CAPACITY
    assert "1 mentor with no places left: 10" in result.warnings


def test_long_lists_in_warnings_are_cut_short():
    mentors = [Mentor(id=i) for i in range(25)]
    result = match_cohort([Mentee(id=100)], mentors)
    assert "25 mentors with no places left: 0, 1, 2," in result.warnings[0]
    assert result.warnings[0].endswith("18, 19 and 5 more")


def test_a_mentee_with_no_criteria_is_still_matched_with_a_warning():
    mentees = [Mentee(id=1, trust="north"), Mentee(id=2, wanted=("a",))]
    mentors = [Mentor(id=10, trust="north", offered=frozenset("a"), capacity=2)]
    result = match_cohort(mentees, mentors)
    assert len(result.pairs) == 2
    assert result.pairs[0].reasons == ("same trust", "no criteria chosen")
    assert (
        "1 mentee with no criteria chosen, matched on trust and specialism only: 1"
        in result.warnings
    )


def test_a_mentee_excluded_from_every_mentor_is_unmatched_and_the_rest_still_matched():
    mentees = [
        Mentee(id=1, wanted=("a",), excluded_mentor_ids=frozenset({10})),
        Mentee(id=2, wanted=("a",)),
    ]
    mentors = [
        Mentor(id=10, offered=frozenset("a"), capacity=1),
        Mentor(id=11, offered=frozenset("a"), capacity=1),
    ]
    result = match_cohort(mentees, mentors, exclusions=[Exclusion(1, 11, "line manager")])
    assert [p.mentee_id for p in result.pairs] == [2]
    (unmatched,) = result.unmatched
    assert (unmatched.mentee_id, unmatched.reason) == (1, UnmatchedReason.ALL_EXCLUDED)
    assert unmatched.detail == "every mentor is excluded for this mentee (2 mentors)"


def test_the_same_person_on_both_sides_is_never_paired_with_themself():
    mentees = [Mentee(id=7, wanted=("a",)), Mentee(id=8, wanted=("a",))]
    mentors = [Mentor(id=7, offered=frozenset("a"), capacity=2)]
    result = match_cohort(mentees, mentors)
    assert [(p.mentee_id, p.mentor_id) for p in result.pairs] == [(8, 7)]
    assert result.unmatched[0].reason is UnmatchedReason.ALL_EXCLUDED
    suggestions = suggest_mentors(mentees[0], mentors)
    assert suggestions.ranked == ()
    assert [(u.mentor_id, u.reason) for u in suggestions.unavailable] == [(7, "same person")]


def test_weights_all_zero_still_match_everyone_with_a_warning():
    mentees, mentors, _, exclusions = random_cohort(4, 30, 6, capacity=(6, 6))
    zero = dict.fromkeys((c for e in mentees for c in e.wanted), 0)
    result = match_cohort(mentees, mentors, zero, exclusions)
    assert len(result.pairs) + len(result.unmatched) == 30
    assert len(result.pairs) >= 25
    assert "all criterion weights are zero: criteria do not change scores" in result.warnings
    assert all(p.score in (0, 10, 20, 30) for p in result.pairs)


def test_duplicate_ids_are_refused_with_a_message_that_lists_them():
    mentees = [Mentee(id=1), Mentee(id=1), Mentee(id="x"), Mentee(id="x"), Mentee(id=2)]
    mentors = [Mentor(id=5, capacity=1), Mentor(id=5, capacity=1)]
    with pytest.raises(DuplicateIdError) as caught:
        match_cohort(mentees, mentors)
    assert str(caught.value) == "duplicate ids, each listed more than once: mentees 1, x; mentors 5"
    assert caught.value.mentee_ids == (1, "x")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match=r"duplicate ids.*mentors 5"):
        suggest_mentors(mentees[0], mentors)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: match_cohort([], [], {"a": -1}), "weights must be finite numbers >= 0: a"),
        (lambda: match_cohort([], [], {"a": float("nan")}), "finite numbers >= 0: a"),
        (lambda: Mentor(id=1, capacity=-1), "capacity cannot be negative"),
        (lambda: Mentor(id=1, capacity=1.5), "capacity must be an int"),
        (lambda: Mentee(id=None), "id must be an int or a str"),
        (lambda: Options(same_trust_bonus=-5), "same_trust_bonus must be a finite number"),
        (lambda: Options(specialism_bonus=10**6), "at most 1000 points"),
        (lambda: match_cohort([], [], method="greedy"), "unknown method 'greedy'"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("far", [1, 10**9])
def test_exclusions_hold_for_close_and_far_apart_ids(far):
    mentees = [Mentee(id=1, wanted=("a",)), Mentee(id=2 * far, wanted=("a",))]
    mentors = [Mentor(id=3 * far, offered=frozenset("a"), capacity=2)]
    result = match_cohort(mentees, mentors, exclusions=[(2 * far, 3 * far), (5, 7)])
    assert [(p.mentee_id, p.mentor_id) for p in result.pairs] == [(1, 3 * far)]


def test_empty_sides_and_unknown_ids_do_not_crash():
    assert match_cohort([], []).pairs == ()
    lonely = match_cohort([Mentee(id=1, wanted=("a",))], [], exclusions=[(9, 9)])
    assert [(u.reason, u.detail) for u in lonely.unmatched] == [
        (UnmatchedReason.NO_CAPACITY, "there are no mentors")
    ]
    nobody = match_cohort([], [Mentor(id=1, capacity=3)])
    assert nobody.pairs == nobody.unmatched == ()


# --- Reasons ----------------------------------------------------------------------


def test_a_pair_says_why_in_plain_english():
    mentee = Mentee(id=1, trust="north", specialism="lung", wanted=("a", "b", "c", "d"))
    mentor = Mentor(
        id=2,
        trust="north",
        specialisms=frozenset({"lung"}),
        offered=frozenset("abc"),
        capacity=5,
        capacity_total=8,
    )
    result = match_cohort([mentee], [mentor])
    assert result.pairs[0].reasons == (
        "same trust",
        "specialism: lung",
        "3 of 4 chosen criteria offered",
    )
    (suggestion,) = suggest_mentors(mentee, [mentor]).ranked
    assert suggestion.reasons[-1] == "capacity: 5 of 8 places left"


def test_unmatched_mentees_say_why():
    mentees = [
        Mentee(id=1, trust="north", wanted=("rare",)),
        Mentee(id=2, trust="north", wanted=("a",)),
        Mentee(id=3, trust="north", wanted=("a",)),
        Mentee(id=4, trust="west", wanted=("a",)),
    ]
    mentors = [Mentor(id=10, trust="north", offered=frozenset("a"), capacity=1)]
    result = match_cohort(mentees, mentors, options=Options(allow_cross_trust=False))
    why = {u.mentee_id: (u.reason, u.detail) for u in result.unmatched}
    assert why[1] == (
        UnmatchedReason.NO_CRITERIA_OVERLAP,
        "no available mentor offers any of the chosen criteria (1 mentor available)",
    )
    assert why[3] == (UnmatchedReason.NO_CAPACITY, "every suitable mentor is full (1 mentor)")
    assert why[4] == (
        UnmatchedReason.ALL_EXCLUDED,
        "no mentor works in the same trust, and cross-trust matching is off",
    )


def test_suggestions_rank_by_fit_then_id_and_list_the_unavailable_with_reasons():
    mentee = Mentee(id=1, trust="north", specialism="lung", wanted=("a", "b"))
    mentors = [
        Mentor(id=20, trust="south", offered=frozenset("ab"), capacity=1),
        Mentor(id=21, trust="north", offered=frozenset("ab"), capacity=1),
        Mentor(id=22, trust="north", offered=frozenset("ab"), capacity=1),
        Mentor(id=23, trust="north", offered=frozenset("ab"), capacity=0),
        Mentor(id=24, trust="north", offered=frozenset("ab"), capacity=3),
        Mentor(id=25, trust="north", offered=frozenset("z"), capacity=3),
        Mentor(
            id=26,
            trust="north",
            specialisms=frozenset({"lung"}),
            offered=frozenset("b"),
            capacity=2,
        ),
        Mentor(id=19, trust="north", offered=frozenset("ab"), capacity=1),
    ]
    suggestions = suggest_mentors(
        mentee, mentors, exclusions=[(1, 24), Exclusion(1, 22, "line manager")]
    )
    assert [(s.mentor_id, s.score, s.cross_trust) for s in suggestions.ranked] == [
        (19, 110.0, False),
        (21, 110.0, False),
        (20, 100.0, True),
        (26, 72.86, False),
    ]
    assert "cross-trust" in suggestions.ranked[2].reasons
    assert [(u.mentor_id, u.reason) for u in suggestions.unavailable] == [
        (22, "line manager"),
        (23, "at capacity"),
        (24, "conflict of interest"),
        (25, "no criteria overlap"),
    ]
    assert len(suggest_mentors(mentee, mentors, limit=2).ranked) == 2
    same_trust_only = suggest_mentors(mentee, mentors, options=Options(allow_cross_trust=False))
    assert (20, "other trust") in [(u.mentor_id, u.reason) for u in same_trust_only.unavailable]


def test_suggestions_and_the_cohort_agree_on_what_may_be_paired():
    mentees, mentors, weights, exclusions = random_cohort(21, 20, 8)
    result = match_cohort(mentees, mentors, weights, exclusions)
    by_mentee = {m.id: m for m in mentees}
    for pair in result.pairs:
        ranked = suggest_mentors(by_mentee[pair.mentee_id], mentors, weights, exclusions).ranked
        match = [s for s in ranked if s.mentor_id == pair.mentor_id]
        assert match and match[0].score == pair.score


def test_the_engine_imports_no_django():
    code = "import sys, matching.engine; print(any(m.startswith('django') for m in sys.modules))"
    argv = [sys.executable, "-c", code]  # a fixed command line
    done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    assert done.stdout.strip() == "False"


def test_the_sparse_certificate_refuses_a_solution_that_is_not_optimal():
    # The price check is what makes the sparse answer exact; make sure it bites.
    scores = np.array([[5, 1], [5, 4]], dtype=np.int32)
    capacity = np.array([1, 1])
    rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    big = engine_solve.big_weight(scores)
    engine_solve._prices(scores, capacity, big, rows, cols, np.array([0, 1]))  # 9: optimal
    for wrong in ([1, 0], [0, -1]):  # 6 points; one left unmatched beside a free place
        with pytest.raises(RuntimeError, match="non-optimal"):
            engine_solve._prices(scores, capacity, big, rows, cols, np.array(wrong))
