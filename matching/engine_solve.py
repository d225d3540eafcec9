"""The numeric core of the matching engine: the score matrix and two exact solvers.

Scores are integers in hundredths of a point, laid out as an ``n_mentees x n_mentors``
``int32`` matrix in which :data:`INELIGIBLE` marks a pair that may not be made.
Integers make the dense and the sparse solver, the brute force in the tests and the
per-pair explanation agree to the last unit, whatever order they add things up in.

Both solvers maximise, lexicographically, first the number of mentees matched and then
the total score. Ties between equally good assignments go to whatever the solver does
on the id-sorted problem, which is the same on every run.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

# Far below any score minus any price (see ``_violations``), so a pair that may not be
# made never looks attractive, without a mask.
INELIGIBLE = -(2**30)
# Rows per block when streaming over the score matrix: small enough to stay in cache.
_BLOCK = 256
# Mentors kept per mentee in the first sparse round. On random cohorts shaped like the
# benchmark's, 32 leaves nothing for the pricing step to add; fewer means more rounds.
FIRST_ROUND_K = 32


def score_matrix(
    left: np.ndarray,
    right: np.ndarray,
    wanted_bits: np.ndarray | None,
    offered_bits: np.ndarray | None,
    mentee_trust: np.ndarray | None,
    mentor_trust: np.ndarray | None,
) -> np.ndarray:
    """Score every pair in one matrix product, then blank the pairs not allowed.

    ``left`` (n x F) and ``right`` (m x F) are the two sides' features, chosen by the
    caller so that ``left @ right.T`` is the score: criterion points against offered
    codes, a trust bonus against a trust one-hot, a specialism bonus against covered
    specialisms. The sums are of integers, exact in float32 below 2**24.

    A pair is not allowed when the bit sets ``wanted_bits`` (n x words) and
    ``offered_bits`` (m x words) share no bit (no chosen criterion offered; pass
    ``None`` to skip), or, if trusts are given, when they differ.
    """
    n, m = left.shape[0], right.shape[0]
    largest = float(np.abs(left).sum(axis=1).max(initial=0.0)) * float(
        np.abs(right).max(initial=0.0)
    )
    dtype = np.float32 if largest < 2**24 else np.float64
    left = left.astype(dtype)
    right_t = np.ascontiguousarray(right.T, dtype=dtype)
    offered_words = None if offered_bits is None else np.ascontiguousarray(offered_bits.T)
    scores = np.empty((n, m), dtype=np.int32)
    for start in range(0, n, _BLOCK):
        rows = slice(start, start + _BLOCK)
        out = scores[rows]
        np.copyto(out, left[rows] @ right_t, casting="unsafe")
        if wanted_bits is not None:
            apart = (wanted_bits[rows, 0, None] & offered_words[0]) == 0
            for word in range(1, offered_words.shape[0]):
                apart &= (wanted_bits[rows, word, None] & offered_words[word]) == 0
            np.copyto(out, INELIGIBLE, where=apart)
        if mentee_trust is not None:
            np.copyto(out, INELIGIBLE, where=mentee_trust[rows, None] != mentor_trust)
    return scores


def big_weight(scores: np.ndarray) -> int:
    """A weight per pair larger than the best total score any assignment can reach."""
    best_per_mentee = scores.max(axis=1, initial=INELIGIBLE).clip(min=0)
    return int(best_per_mentee.astype(np.int64).sum()) + 1


def solve_dense(scores: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Exact assignment with ``linear_sum_assignment`` over capacity-expanded mentors.

    Each mentor becomes ``capacity`` identical columns, and every pair weighs
    ``big + score`` with ``big`` above any total score, so one more pair always
    outweighs any gain in score (the sums stay far below 2**53, exact in float64). A
    cell that may not be paired weighs 0, like leaving the mentee unmatched, so the
    solver may "assign" it and we drop it. Memory is ``n x total capacity`` float64:
    this is the reference, not the method for large cohorts. Returns each mentee's
    mentor index, or -1.
    """
    n, m = scores.shape
    mentor_of = np.full(n, -1, dtype=np.int64)
    slots = np.minimum(capacity, n)
    if n == 0 or slots.sum() == 0:
        return mentor_of
    big = big_weight(scores)
    weights = np.where(scores >= 0, big + scores.astype(np.float64), 0.0)
    expanded = np.repeat(weights, slots, axis=1)
    del weights
    owner = np.repeat(np.arange(m), slots)
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    real = expanded[rows, cols] > 0
    mentor_of[rows[real]] = owner[cols[real]]
    return mentor_of


def solve_sparse(scores: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Exact assignment on a sparse graph of promising pairs, proved optimal by LP duality.

    Each round solves the problem restricted to a candidate set of pairs as a min-cost
    flow (OR-tools), then derives the mentors' minimal prices from that solution and
    checks every allowed pair of the full matrix against them, as column generation
    does. If no pair is worth more to its mentee, at those prices, than what the mentee
    already has, the prices are a feasible dual for the whole problem and the
    restricted optimum is the true optimum. Otherwise the mentees who would gain get
    their best pairs at the current prices and the round repeats; every round adds at
    least one new pair, so it ends. Returns each mentee's mentor index, or -1.
    """
    n, m = scores.shape
    mentor_of = np.full(n, -1, dtype=np.int64)
    active = np.nonzero(capacity > 0)[0]
    if n == 0 or active.size == 0:
        return mentor_of
    if active.size < m:
        # A mentor with no places takes no part; solve without its column.
        inner = solve_sparse(np.ascontiguousarray(scores[:, active]), capacity[active])
        mentor_of[inner >= 0] = active[inner[inner >= 0]]
        return mentor_of
    capacity = capacity.astype(np.int64)
    big = big_weight(scores)
    k = FIRST_ROUND_K
    pairs = _top_pairs(scores, None, np.arange(n), k)
    while True:
        rows, cols = pairs // m, pairs % m
        mentor_of = _solve_restricted(scores, capacity, rows, cols)
        prices, floor = _prices(scores, capacity, big, rows, cols, mentor_of)
        violated = _violations(scores, prices, floor, big)
        if violated.size == 0:
            return mentor_of
        k = min(2 * k, m)
        pairs = np.union1d(pairs, _top_pairs(scores, prices, violated, k))


def _top_pairs(
    scores: np.ndarray, prices: np.ndarray | None, rows: np.ndarray, k: int
) -> np.ndarray:
    """The ``k`` best allowed mentors of each given mentee, at the given prices.

    Pairs come back encoded as ``row * m + col``, in row order.
    """
    n, m = scores.shape
    k = min(k, m)
    everyone = rows.size == n
    found = [np.zeros(0, dtype=np.int64)]
    for start in range(0, rows.size, _BLOCK):
        block_rows = rows[start : start + _BLOCK]
        block = scores[start : start + _BLOCK] if everyone else scores[block_rows]
        allowed = block >= 0
        if prices is not None:
            block = block - prices
        if k < m:
            best = np.argpartition(block, m - k, axis=1)[:, m - k :]
        else:
            best = np.broadcast_to(np.arange(m), block.shape)
        keep = np.take_along_axis(allowed, best, axis=1)
        chosen_rows = np.broadcast_to(block_rows[:, None], best.shape)[keep]
        found.append(chosen_rows.astype(np.int64) * m + best[keep])
    return np.concatenate(found)


def _solve_restricted(
    scores: np.ndarray, capacity: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Solve the assignment over the candidate pairs only, as a min-cost flow.

    source -> mentee (1 each) -> mentor (the candidate pairs) -> sink (capacity).
    OR-tools' ``solve_max_flow_with_min_cost`` pushes as much flow as it can and, among
    maximum flows, takes the cheapest: exactly "most mentees matched, then best total",
    with no big-M, so the costs stay small and cost scaling stays quick.
    """
    # Imported here: web processes that only rank suggestions need not load OR-tools.
    from ortools.graph.python import min_cost_flow

    n, m = scores.shape
    source, sink = n + m, n + m + 1
    top = int(scores.max(initial=0)) + 1
    # Arcs grouped by mentor solve measurably faster than grouped by mentee.
    by_mentor = np.argsort(cols, kind="stable")
    rows, cols = rows[by_mentor], cols[by_mentor]
    flow = min_cost_flow.SimpleMinCostFlow()
    costs = top - scores[rows, cols].astype(np.int64)
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        rows, n + cols, np.ones(rows.size, dtype=np.int64), costs
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source), np.arange(n), np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        n + np.arange(m), np.full(m, sink), capacity, np.zeros(m, dtype=np.int64)
    )
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = flow.flows(pair_arcs) > 0
    mentor_of = np.full(n, -1, dtype=np.int64)
    mentor_of[rows[used]] = cols[used]
    return mentor_of


def _prices(
    scores: np.ndarray,
    capacity: np.ndarray,
    big: int,
    rows: np.ndarray,
    cols: np.ndarray,
    mentor_of: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimal mentor prices that certify the restricted solution, and each mentee's floor.

    The dual of the assignment LP gives each mentee a value ``y`` and each mentor a
    price ``z`` with ``y_i + z_j >= big + score_ij`` on every pair, equality on the
    pairs made, ``y_i = 0`` for an unmatched mentee and ``z_j = 0`` for a mentor with a
    free place. Starting from zero and raising each mentor's price to the most any
    candidate mentee would pay is Bellman-Ford on the residual graph; it settles only if
    the restricted solution is optimal, and the minimal prices leave the most room for
    the pairs outside the candidate set.

    The floor is ``y_i - big``: what mentee i's assignment is worth in score minus
    price (``-big`` when unmatched). A pair with ``score - price`` above it is a pair
    the restricted problem was missing.
    """
    n, m = scores.shape
    weight = big + scores[rows, cols].astype(np.int64)
    unused = mentor_of[rows] != cols
    order = np.argsort(cols[unused], kind="stable")
    u_rows, u_cols, u_weight = rows[unused][order], cols[unused][order], weight[unused][order]
    groups = np.nonzero(np.diff(u_cols, prepend=-1))[0]
    group_cols = u_cols[groups]

    matched = np.nonzero(mentor_of >= 0)[0]
    matched_mentor = mentor_of[matched]
    matched_weight = big + scores[matched, matched_mentor].astype(np.int64)

    prices = np.zeros(m, dtype=np.int64)
    value = np.zeros(n, dtype=np.int64)
    for _ in range(m + 2):
        value[matched] = matched_weight - prices[matched_mentor]
        new = np.zeros(m, dtype=np.int64)
        if groups.size:
            new[group_cols] = np.maximum.reduceat(u_weight - value[u_rows], groups)
        np.maximum(new, 0, out=new)
        if np.array_equal(new, prices):
            break
        prices = new
    else:
        raise RuntimeError("min-cost flow returned a non-optimal solution")

    load = np.bincount(matched_mentor, minlength=m)
    if np.any(prices[load < capacity] > 0) or np.any(value < 0):
        raise RuntimeError("min-cost flow returned a non-optimal solution")
    return prices, value - big


def _violations(scores: np.ndarray, prices: np.ndarray, floor: np.ndarray, big: int) -> np.ndarray:
    """Mentees with an allowed pair worth more, at these prices, than what they have.

    Prices are at most ``big + max score``. While that is below 2**30, every
    ``score - price`` of an allowed pair fits in int32 and stays above
    ``INELIGIBLE - price`` of a pair not allowed, so one subtraction suffices.
    """
    n = scores.shape[0]
    narrow = int(prices.max(initial=0)) + big < 2**30
    price = prices.astype(np.int32) if narrow else prices
    bad = [np.zeros(0, dtype=np.int64)]
    for start in range(0, n, 4 * _BLOCK):
        block = scores[start : start + 4 * _BLOCK]
        if narrow:
            best = (block - price).max(axis=1)
        else:
            best = np.where(block >= 0, block - price, -(2**62)).max(axis=1)
        bad.append(np.nonzero(best > floor[start : start + 4 * _BLOCK])[0] + start)
    return np.concatenate(bad)
