"""The simulator's Python API: a seeded stream of survey rounds, one round in memory at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.simulator import frames
from features.simulator.events import event_rows
from features.simulator.population import ethnic_minority
from features.simulator.state import State, keep_households
from features.simulator.step import initial_state, step
from features.simulator.truth import DEFAULT_REPLICATES, true_risk

BURN_IN_YEARS = 3  # simulated years before the first round, so its record, 低保 and monitoring have a history


@dataclass
class RoundOutput:
    """One survey round: the three contract tables (canonical form) and the truth, kept apart."""

    round_id: str
    year: int
    households: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame  # reported shocks dated between the previous survey and this one
    truth: pd.DataFrame   # household_id, round_id, true_risk (of falling below at the next round)
    state: State          # the full latent state behind the round (for tests and diagnostics)
    late_events: pd.DataFrame | None = None  # events held back for a later delivery (the ``late`` shock)


def _drop_gone(s: State) -> State:
    return keep_households(s, ~s.hh["gone"])


def simulate(households: int, rounds: int, seed: int, first_year: int = 2021,
             replicates: int = DEFAULT_REPLICATES) -> Iterator[RoundOutput]:
    """Yield ``rounds`` yearly rounds of ``households`` households (fewer later: some leave), deterministic
    in ``seed``. Each stage draws from its own child of ``SeedSequence(seed)``."""
    if households < 1 or rounds < 1:
        raise ValueError(f"households and rounds must be >= 1; got households={households}, rounds={rounds}")
    root = np.random.SeedSequence(seed)
    init_seq, burn_seq, *round_seqs = root.spawn(2 + rounds)
    s = initial_state(households, first_year - BURN_IN_YEARS, np.random.default_rng(init_seq))
    # A child spawned after the others: every other draw stays what it was before this attribute existed.
    s.hh["minority"] = ethnic_minority(s.hh["village"], s.geo["remote_km"], np.random.default_rng(root.spawn(1)[0]))
    for seq in burn_seq.spawn(BURN_IN_YEARS):
        s, _ = step(s, np.random.default_rng(seq))
        s = _drop_gone(s)
    for r, seq in enumerate(round_seqs):
        step_rng, event_rng, truth_rng = (np.random.default_rng(x) for x in seq.spawn(3))
        rows = None
        if r > 0:
            prev = s
            s, happened = step(prev, step_rng)
            prev_day = frames.survey_day(s, s.year - 1)
            rows = event_rows(happened, prev_day, frames.survey_day(s, s.year), ~s.hh["gone"], event_rng,
                              minority=s.hh["minority"])
            rows["hh"] = np.cumsum(~s.hh["gone"])[rows["hh"]] - 1  # indices after dropping leavers
            s = _drop_gone(s)
        round_id = str(s.year)
        risk = true_risk(s, truth_rng, replicates)
        hh = frames.households_frame(s, round_id)
        truth = pd.DataFrame({"household_id": hh["household_id"].to_numpy(), "round_id": round_id,
                              "true_risk": risk})
        ev = frames.events_frame(s, rows) if rows is not None else frames.events_frame(s, _no_events())
        yield RoundOutput(round_id, s.year, hh, frames.members_frame(s, round_id), ev, truth, s)


def _no_events() -> dict[str, np.ndarray]:
    z = np.zeros(0, np.int64)
    return {"hh": z, "mid": z, "type": z, "day": z, "amount": np.zeros(0), "source": z}
