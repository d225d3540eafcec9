"""The statistics the evaluation reports, on plain numbers (no Django).

Paired change from a baseline to a follow-up: n, mean and median change, a 95%
confidence interval for the mean (Student's t), the Wilcoxon signed-rank test and
its effect size r = |z| / sqrt(N), where z is the test's normal approximation and N
the pairs that changed (the test sets ties at zero aside). Proportions: Wilson 95%
intervals, and Fisher's exact test for two groups.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipy import stats as scipy_stats


@dataclass(frozen=True)
class PairedChange:
    n: int
    mean: float | None = None
    median: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    effect_r: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)

    @property
    def tested(self) -> bool:
        return self.p_value is not None


def paired_change(before: Sequence[float], after: Sequence[float]) -> PairedChange:
    """Each person's change from ``before`` to ``after`` (the same order, one pair each)."""
    if len(before) != len(after):
        raise ValueError("Each baseline answer needs its follow-up answer.")
    differences = [float(b) - float(a) for a, b in zip(before, after, strict=True)]
    n = len(differences)
    if n == 0:
        return PairedChange(n=0)
    mean = statistics.fmean(differences)
    median = statistics.median(differences)
    distribution = dict(sorted(Counter(round(d) for d in differences).items()))
    ci_low = ci_high = None
    if n >= 2:
        sd = statistics.stdev(differences)
        if sd == 0:
            ci_low = ci_high = mean
        else:
            half = scipy_stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
            ci_low, ci_high = float(mean - half), float(mean + half)
    p_value = effect_r = None
    changed = [d for d in differences if d != 0]
    if changed:
        p_value = float(scipy_stats.wilcoxon(differences).pvalue)
        approx = scipy_stats.wilcoxon(differences, method="approx")
        effect_r = abs(float(approx.zstatistic)) / math.sqrt(len(changed))
    elif n >= 1:
        p_value, effect_r = 1.0, 0.0
    return PairedChange(
        n=n,
        mean=mean,
        median=median,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        effect_r=effect_r,
        distribution=distribution,
    )


@dataclass(frozen=True)
class Proportion:
    numerator: int
    denominator: int
    low: float | None
    high: float | None

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> int | None:
        """As a whole number, rounded half up (as people round)."""
        if not self.denominator:
            return None
        return math.floor(100 * self.numerator / self.denominator + 0.5)


def wilson(numerator: int, denominator: int, z: float = 1.959963984540054) -> Proportion:
    """A proportion with its Wilson score 95% interval."""
    if denominator <= 0:
        return Proportion(numerator, denominator, None, None)
    p = numerator / denominator
    centre = (p + z * z / (2 * denominator)) / (1 + z * z / denominator)
    half = (
        z
        * math.sqrt(p * (1 - p) / denominator + z * z / (4 * denominator * denominator))
        / (1 + z * z / denominator)
    )
    return Proportion(numerator, denominator, max(0.0, centre - half), min(1.0, centre + half))


def fisher_exact(a_yes: int, a_total: int, b_yes: int, b_total: int) -> float | None:
    """Two-sided p-value that two groups' proportions differ."""
    if a_total <= 0 or b_total <= 0:
        return None
    table = [[a_yes, a_total - a_yes], [b_yes, b_total - b_yes]]
    return float(scipy_stats.fisher_exact(table).pvalue)
