"""Distribution-shift statistics on fixed bins: PSI, KS, total variation, chi-square, missing share.

Bins are quantiles of the reference, computed once; every sample (the round, each bootstrap replicate) is
then a vector of bin codes, so a replicate costs one ``bincount``. Missing values get a bin of their own,
so a jump in missingness moves the PSI too.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

DEFAULT_BINS = 10


def quantile_edges(reference: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior cut points at the reference's quantiles, duplicates removed (a flag has one cut, a constant
    none): the bins hold about equal shares of the reference."""
    x = reference[np.isfinite(reference)]
    if len(x) == 0:
        return np.zeros(0)
    return np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: 0..len(edges) (right-closed), ``len(edges) + 1`` for missing."""
    codes = np.searchsorted(edges, values, side="left")
    codes[~np.isfinite(values)] = len(edges) + 1
    return codes.astype(np.int16)


def psi_from_counts(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Population stability index per row of two count arrays ``(..., bins)``; half a count is added to
    each bin so that an empty bin gives a large, finite value."""
    p = (ref + 0.5) / (ref.sum(axis=-1, keepdims=True) + 0.5 * ref.shape[-1])
    q = (cur + 0.5) / (cur.sum(axis=-1, keepdims=True) + 0.5 * cur.shape[-1])
    keep = (ref + cur) > 0  # bins empty in both (e.g. no missing values) carry no information
    return np.where(keep, (q - p) * np.log(q / p), 0.0).sum(axis=-1)


def ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance of the non-missing values (0 when either side is empty)."""
    a, b = reference[np.isfinite(reference)], current[np.isfinite(current)]
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return float(stats.ks_2samp(a, b).statistic)


def total_variation(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Half the L1 distance between the two category shares."""
    p = ref_counts / max(ref_counts.sum(), 1)
    q = cur_counts / max(cur_counts.sum(), 1)
    return float(0.5 * np.abs(p - q).sum())


def chi_square_p(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """p-value of the chi-square test of homogeneity of two category count vectors (1.0 if degenerate)."""
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)

