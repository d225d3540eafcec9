"""Each statistic on small data sets checked by hand."""

import math

import pytest

from evaluation.statistics import fisher_exact, paired_change, wilson


def test_paired_change_on_eight_mentees():
    # Changes: 1, 1, 0, 2, 1, 0, 2, 2.
    change = paired_change([2, 3, 3, 2, 1, 4, 2, 3], [3, 4, 3, 4, 2, 4, 4, 5])
    assert change.n == 8
    assert change.mean == pytest.approx(9 / 8)
    assert change.median == 1.0
    # sd = sqrt(4.875 / 7); t(0.975, 7) = 2.364624
    half = 2.364624 * math.sqrt(4.875 / 7) / math.sqrt(8)
    assert change.ci_low == pytest.approx(9 / 8 - half, abs=1e-5)
    assert change.ci_high == pytest.approx(9 / 8 + half, abs=1e-5)
    # Six pairs changed, all upwards: the exact two-sided p is 2 / 2**6.
    assert change.p_value == pytest.approx(2 / 64)
    # z with the tie correction: (0 - 10.5) / sqrt(22.75 - 1); r = |z| / sqrt(6).
    assert change.effect_r == pytest.approx(10.5 / math.sqrt(21.75) / math.sqrt(6))
    assert change.distribution == {0: 2, 1: 3, 2: 3}


def test_no_change_at_all_is_a_p_of_one_not_an_error():
    change = paired_change([3, 3, 4], [3, 3, 4])
    assert (change.mean, change.p_value, change.effect_r) == (0.0, 1.0, 0.0)
    assert change.ci_low == change.ci_high == 0.0


def test_no_pairs_gives_no_figures():
    change = paired_change([], [])
    assert change.n == 0 and change.mean is None and not change.tested


def test_a_baseline_without_its_follow_up_is_refused():
    with pytest.raises(ValueError):
        paired_change([1, 2], [3])


def test_wilson_interval_for_eight_of_ten():
    proportion = wilson(8, 10)
    assert proportion.percent == 80
    assert proportion.low == pytest.approx(0.4902, abs=1e-4)
    assert proportion.high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 10).low == 0.0
    assert wilson(0, 0).value is None


def test_percent_rounds_half_up():
    assert wilson(1, 8).percent == 13  # 12.5%
    assert wilson(2, 3).percent == 67


def test_fisher_exact_two_sided():
    # 8/10 against 2/10: p = 0.0230 (two-sided).
    assert fisher_exact(8, 10, 2, 10) == pytest.approx(0.02301, abs=1e-5)
    assert fisher_exact(1, 0, 1, 2) is None
