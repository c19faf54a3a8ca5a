"""The Wilson score interval for a pass rate measured on a small sample.

For ``passed`` successes in ``trials`` with ``p = passed / trials`` and normal quantile ``z``::

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) · sqrt(p(1 − p)/n + z²/4n²)

Unlike the normal approximation it stays inside [0, 1] and is honest at 0/n and n/n (5/5 gives
0.566–1.000 at 95 %, not 1.000–1.000).
"""

from __future__ import annotations

import math


def wilson(passed: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Lower and upper bound of the pass rate at the confidence ``z`` stands for (1.96: 95 %).

    No trials: nothing is known, (0.0, 1.0)."""
    if trials < 0 or passed < 0 or passed > trials:
        raise ValueError(f"need 0 <= passed <= trials (got {passed}/{trials})")
    if trials == 0:
        return 0.0, 1.0
    n = float(trials)
    p = passed / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
