"""The latent state of the simulated population: flat numpy arrays over households, members and villages.

Members point at their household by index (``mem["hh"]``), so household totals are ``np.bincount``.
The generic operations here (take a slice of households, tile it K times as independent worlds) are what
lets the Monte Carlo truth re-run the very same step function as the real next round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class State:
    """Households (``hh``), members (``mem``) and villages (``geo``) at the survey of ``year``."""

    hh: dict[str, np.ndarray]
    mem: dict[str, np.ndarray]
    geo: dict[str, np.ndarray]
    year: int
    n_worlds: int = 1

    @property
    def n_households(self) -> int:
        return len(self.hh["uid"])

    @property
    def n_members(self) -> int:
        return len(self.mem["hh"])

    @property
    def n_villages(self) -> int:
        return len(self.geo["county"])

    @property
    def n_counties(self) -> int:
        return int(self.geo["county"].max()) + 1

    def copy(self) -> State:
        return State({k: v.copy() for k, v in self.hh.items()}, {k: v.copy() for k, v in self.mem.items()},
                     {k: v.copy() for k, v in self.geo.items()}, self.year, self.n_worlds)


def per_household(s: State, values: np.ndarray | None = None) -> np.ndarray:
    """Sum of a member array (or a member count) per household."""
    w = None if values is None else np.asarray(values, dtype=np.float64)
    return np.bincount(s.mem["hh"], weights=w, minlength=s.n_households)


def any_per_household(s: State, mask: np.ndarray) -> np.ndarray:
    """Whether any member of each household satisfies ``mask``."""
    return np.bincount(s.mem["hh"][mask], minlength=s.n_households) > 0


def keep_members(s: State, mask: np.ndarray) -> None:
    """Drop the members where ``mask`` is False (death, moving out)."""
    s.mem = {k: v[mask] for k, v in s.mem.items()}


def append_members(s: State, new: dict[str, np.ndarray]) -> None:
    """Add members (births); ``new`` must carry every member array."""
    s.mem = {k: np.concatenate([v, new[k].astype(v.dtype)]) for k, v in s.mem.items()}


def keep_households(s: State, mask: np.ndarray) -> State:
    """The state restricted to the households where ``mask`` is True, members re-indexed."""
    idx = np.flatnonzero(mask)
    new_index = np.full(s.n_households, -1, dtype=np.int64)
    new_index[idx] = np.arange(len(idx))
    mmask = mask[s.mem["hh"]]
    mem = {k: v[mmask] for k, v in s.mem.items()}
    mem["hh"] = new_index[mem["hh"]]
    return State({k: v[idx] for k, v in s.hh.items()}, mem, s.geo, s.year, s.n_worlds)


def take_range(s: State, start: int, stop: int) -> State:
    """Households ``start:stop`` (and their members) as their own state; villages are shared."""
    mask = np.zeros(s.n_households, dtype=bool)
    mask[start:stop] = True
    return keep_households(s, mask)


def tile(s: State, k: int) -> State:
    """K independent copies of the state ("worlds"): villages and counties are copied too, so that common
    shocks (a village's disaster, a county's prices, a year's labour market) are drawn afresh in each."""
    h, v, c = s.n_households, s.n_villages, s.n_counties
    block_h = np.repeat(np.arange(k), h)
    block_m = np.repeat(np.arange(k), s.n_members)
    block_v = np.repeat(np.arange(k), v)
    hh = {n: np.tile(a, k) for n, a in s.hh.items()}
    hh["village"] = hh["village"] + block_h * v
    hh["world"] = block_h
    mem = {n: np.tile(a, k) for n, a in s.mem.items()}
    mem["hh"] = mem["hh"] + block_m * h
    geo = {n: np.tile(a, k) for n, a in s.geo.items()}
    geo["county"] = geo["county"] + block_v * c
    return State(hh, mem, geo, s.year, k)
