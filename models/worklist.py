"""The village worklist: who to visit, through which channel, by when — pure logic over one status table.

The monitoring workflow (农户自主申报、干部排查、部门筛查预警 → 入户核实 → 认定 → 帮扶) needs one list per village
with every household at most once, in the first channel that takes it:

1. ``below_line`` — already below the line at the as-of record: they need assistance now; never ranked as a
   risk of falling (ordered by how far below the line they are).
2. ``trigger`` — statutory triggers (``TriggerConfig``, county-editable YAML) on households not yet
   monitored, whatever the model says; ordered by hardship ratio, never by the model.
3. ``model`` — the model's early warnings among the remaining eligible households not yet monitored, by risk,
   up to the village's capacity (default 10 % of its eligible households, at least one).
4. ``follow_up`` — monitored households whose risk rose since their previous round, who reported a new shock
   since their last survey or whom a trigger names: they are in the system already, so a trigger or a high risk
   means checking their assistance, not identifying them again.
5. ``audit`` — a seeded random sample of households no channel took and not yet monitored (default 2 % per
   county, at least one per village of 20 or more households): the only unbiased estimate of what the list
   misses.

Households whose newest record is older than the round scored are ``stale``: listed apart for re-survey,
never scored as current. The caller builds the status table (``STATUS_COLUMNS``) and supplies the reasons
and measures of the households listed; this module only decides and dates.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CHANNELS = ("below_line", "trigger", "model", "follow_up", "audit")
STALE = "stale"
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "below_line": ("已低于监测标准", "Already below the line"),
    "trigger": ("预警条件触发", "Statutory triggers"),
    "model": ("模型预警", "Model early warnings"),
    "follow_up": ("监测户跟踪", "Monitored households to follow up"),
    "audit": ("随机抽查", "Random audit"),
    STALE: ("需重新采集", "Re-survey needed (record out of date)"),
}
# What the caller provides, one row per household (the latest record known at the as-of date).
STATUS_COLUMNS = ("household_id", "village", "county", "round_id", "survey_date", "below_line", "stale",
                  "risk", "tier", "monitored", "previous_risk", "new_shock", "department_alert_days",
                  "medical_spending", "rigid_spending", "net_income", "hardship_ratio")


class WorklistError(ValueError):
    """Options or inputs the worklist cannot be built from; the message says what to change."""


class TriggerConfig(BaseModel):
    """Statutory triggers; ``None`` switches one off. Defaults: ``models/triggers.yaml``."""

    model_config = ConfigDict(extra="forbid")
    department_alert_days: int | None = Field(default=90, ge=1)
    medical_spending_yuan: float | None = Field(default=10_000, ge=0)
    rigid_spending_above_net_income: bool = True
    hardship_ratio_below: float | None = Field(default=1.1, gt=0)

    @classmethod
    def load(cls, path: str | Path | None = None) -> TriggerConfig:
        """The packaged defaults, or a county's YAML file; unknown keys and bad values are errors."""
        import yaml

        text = (Path(path).read_text(encoding="utf-8") if path is not None
                else resources.files("models").joinpath("triggers.yaml").read_text(encoding="utf-8"))
        where = str(path) if path is not None else "models/triggers.yaml"
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise WorklistError(f"{where}: not valid YAML: {e}") from e
        if not isinstance(data, dict):
            raise WorklistError(f"{where}: expected a mapping of trigger settings, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in e.errors())
            raise WorklistError(f"{where}: {problems} (allowed keys: {', '.join(cls.model_fields)})") from e


class WorklistOptions(BaseModel):
    """How many to visit and by when. ``capacity`` (households per village) wins over ``capacity_share``."""

    model_config = ConfigDict(extra="forbid")
    capacity: int | None = Field(default=None, ge=1)
    capacity_share: float = Field(default=0.10, gt=0, le=1)
    audit_share: float = Field(default=0.02, ge=0, le=1)
    audit_min_village_households: int = Field(default=20, ge=1)
    seed: int = 0
    check_working_days: int = Field(default=5, ge=1)
    decide_days: int = Field(default=15, ge=1)


@dataclass
class Listed:
    """What the caller says about one listed household: reasons (``models.citing.Reason``) and measures."""

    reasons: list[Any] = field(default_factory=list)
    measures: list[Any] = field(default_factory=list)


@dataclass
class Worklist:
    entries: pd.DataFrame            # one row per listed household, channels in order, then the stale ones
    as_of: str
    issued: str
    model_version: str
    seed: int
    options: WorklistOptions
    triggers: TriggerConfig

    @property
    def active(self) -> pd.DataFrame:
        return self.entries[self.entries["channel"] != STALE]

    @property
    def stale(self) -> pd.DataFrame:
        return self.entries[self.entries["channel"] == STALE]


# ---- triggers

def _num(status: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(status[column], errors="coerce").to_numpy(dtype="float64")


def trigger_flags(status: pd.DataFrame, cfg: TriggerConfig) -> pd.DataFrame:
    """One boolean column per switched-on trigger (missing values never trigger)."""
    flags: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore"):
        if cfg.department_alert_days is not None:
            flags["department_alert"] = _num(status, "department_alert_days") <= cfg.department_alert_days
        if cfg.medical_spending_yuan is not None:
            flags["medical_spending"] = _num(status, "medical_spending") >= cfg.medical_spending_yuan
        if cfg.rigid_spending_above_net_income:
            flags["rigid_spending"] = _num(status, "rigid_spending") > _num(status, "net_income")
        if cfg.hardship_ratio_below is not None:
            flags["hardship_income"] = _num(status, "hardship_ratio") < cfg.hardship_ratio_below
    return pd.DataFrame(flags, index=status.index)


def trigger_text(code: str, row: pd.Series, cfg: TriggerConfig) -> tuple[str, str]:
    """The zh/en sentence that says why a trigger fired, with the household's own figures."""
    if code == "department_alert":
        d = int(row["department_alert_days"])
        return f"{d} 天前行业部门推送预警信息", f"Sector department alert {d} days ago"
    if code == "medical_spending":
        v = float(row["medical_spending"])
        return (f"合规自付医疗支出 {v:,.0f} 元，达到 {cfg.medical_spending_yuan:,.0f} 元预警线",
                f"Out-of-pocket medical spending of {v:,.0f} yuan reaches the {cfg.medical_spending_yuan:,.0f} yuan trigger")
    if code == "rigid_spending":
        r, n = float(row["rigid_spending"]), float(row["net_income"])
        return (f"刚性支出 {r:,.0f} 元超过家庭纯收入 {n:,.0f} 元",
                f"Rigid spending of {r:,.0f} yuan exceeds net income of {n:,.0f} yuan")
    if code == "hardship_income":
        h = float(row["hardship_ratio"])
        return (f"扣除刚性支出后人均收入仅为监测标准的 {h:.2f} 倍（预警线 {cfg.hardship_ratio_below:.2f} 倍）",
                f"Hardship income is {h:.2f} times the line (trigger below {cfg.hardship_ratio_below:.2f})")
    raise KeyError(code)


# ---- selection

def capacity_of(eligible: int, options: WorklistOptions) -> int:
    """Model-channel places of a village with ``eligible`` households (at least one when it has any)."""
    if eligible <= 0:
        return 0
    if options.capacity is not None:
        return options.capacity
    return max(1, math.ceil(options.capacity_share * eligible))


def _audit_sample(pool: pd.DataFrame, counts: pd.DataFrame, options: WorklistOptions) -> list[str]:
    """Seeded sample of unflagged households: one per village of ``audit_min_village_households`` or more,
    then random others until the county's share is reached. Deterministic for a seed and a population."""
    if options.audit_share <= 0 or pool.empty:
        return []
    rng = np.random.default_rng(options.seed)
    sizes = counts.groupby(["county", "village"], sort=False)["n"].sum().to_dict()
    county_sizes = counts.groupby("county", sort=False)["n"].sum().to_dict()
    chosen: list[str] = []
    for county, part in pool.sort_values("household_id").groupby("county", sort=True):
        quota = math.ceil(options.audit_share * int(county_sizes.get(county, 0)))
        picked: list[str] = []
        for village, vpart in part.groupby("village", sort=True):
            size = int(sizes.get((county, village), 0))
            if size >= options.audit_min_village_households:
                picked.append(str(vpart["household_id"].iloc[int(rng.integers(len(vpart)))]))
        rest = part.loc[~part["household_id"].isin(picked), "household_id"].astype(str).to_numpy()
        extra = max(0, quota - len(picked))
        if extra and len(rest):
            picked += list(rng.choice(rest, size=min(extra, len(rest)), replace=False))
        chosen += picked
    return chosen


def select(status: pd.DataFrame, triggers: TriggerConfig, options: WorklistOptions) -> pd.DataFrame:
    """``household_id, channel, triggers`` for each listed household (first channel wins), plus the stale."""
    missing = [c for c in STATUS_COLUMNS if c not in status.columns]
    if missing:
        raise WorklistError(f"status table lacks columns {', '.join(missing)}")
    if status["household_id"].duplicated().any():
        dup = status.loc[status["household_id"].duplicated(), "household_id"].iloc[0]
        raise WorklistError(f"household {dup!r} appears twice in the status table; one row per household")
    s = status.reset_index(drop=True)
    stale = s["stale"].astype(bool).to_numpy()
    below = s["below_line"].astype(bool).to_numpy() & ~stale
    fired = fired_triggers(trigger_flags(s, triggers))
    channel = np.full(len(s), "", dtype=object)
    channel[stale] = STALE
    channel[below] = "below_line"
    # households already monitored are followed up, never "found" again by a trigger, the model or the audit
    monitored = s["monitored"].astype(bool).to_numpy()
    fired_any = fired != ""
    trig = (channel == "") & fired_any & ~monitored
    channel[trig] = "trigger"
    # model: per village, the highest risks among the eligible households still free and not yet monitored
    risk = _num(s, "risk")
    channel[_model_picks(s, risk, eligible=~stale & ~below, free=(channel == "") & ~monitored, options=options)] = "model"
    prev = _num(s, "previous_risk")
    with np.errstate(invalid="ignore"):
        rose = risk > prev
    follow = (channel == "") & monitored & (rose | s["new_shock"].astype(bool).to_numpy() | fired_any)
    channel[follow] = "follow_up"
    counts = s.loc[~stale].groupby(["county", "village"], as_index=False).size().rename(columns={"size": "n"})
    pool = s.loc[(channel == "") & ~monitored, ["household_id", "county", "village"]]
    audit = set(_audit_sample(pool, counts, options))
    channel[s["household_id"].astype(str).isin(audit).to_numpy()] = "audit"
    listed = channel != ""
    return s.loc[listed].assign(channel=channel[listed], triggers=fired[listed]).reset_index(drop=True)


def fired_triggers(flags: pd.DataFrame) -> np.ndarray:
    """Each row's fired trigger codes joined by ';' in column order ('' when none), column by column."""
    fired = np.full(len(flags), "", dtype=object)
    for code in flags.columns:
        on = flags[code].to_numpy(dtype=bool)
        fired[on] = np.where(fired[on] == "", code, fired[on] + ";" + code)
    return fired


def _model_picks(s: pd.DataFrame, risk: np.ndarray, *, eligible: np.ndarray, free: np.ndarray,
                 options: WorklistOptions) -> np.ndarray:
    """Row positions the model channel takes: per village (``capacity_of`` its eligible households), the
    highest risks among the ``free`` rows with a risk, ties by household id."""
    village = s["village"].to_numpy()
    places = {v: capacity_of(int(n), options) for v, n in
              pd.Series(eligible).groupby(village, sort=True).sum().items()}
    cand = np.flatnonzero(free & ~np.isnan(risk))
    order = pd.DataFrame({"v": village[cand], "r": -risk[cand],
                          "h": s["household_id"].astype(str).to_numpy()[cand], "i": cand})
    order = order.sort_values(["v", "r", "h"], kind="stable")
    taken = order.groupby("v", sort=False).cumcount().to_numpy() < order["v"].map(places).to_numpy()
    return order["i"].to_numpy()[taken]


def _rank(picked: pd.DataFrame, audit_order: Sequence[str] = ()) -> np.ndarray:
    """Rank within village and channel: below-line and triggers by hardship ratio (lowest first), model and
    follow-up by risk, audit in sampled order, stale by how old the record is."""
    key = np.zeros(len(picked))
    ch = picked["channel"].to_numpy()
    hard, risk = _num(picked, "hardship_ratio"), _num(picked, "risk")
    key = np.where(np.isin(ch, ["below_line", "trigger"]), np.nan_to_num(hard, nan=np.inf), key)
    key = np.where(np.isin(ch, ["model", "follow_up"]), -np.nan_to_num(risk, nan=-1), key)
    order = {h: k for k, h in enumerate(audit_order)}
    key = np.where(ch == "audit", [order.get(h, 0) for h in picked["household_id"]], key)
    key = np.where(ch == STALE, pd.to_datetime(picked["survey_date"]).astype("int64").to_numpy() / 1e18, key)
    frame = pd.DataFrame({"v": picked["village"].to_numpy(), "c": ch, "k": key, "h": picked["household_id"].to_numpy()})
    frame = frame.sort_values(["v", "c", "k", "h"], kind="stable")
    frame["rank"] = frame.groupby(["v", "c"]).cumcount() + 1
    return frame["rank"].reindex(range(len(picked))).to_numpy()


# ---- dates and ids

def alert_id(household_id: str, as_of: str, channel: str, model_version: str) -> str:
    """Stable id: the same household, as-of date, channel and model version give the same alert."""
    key = "\x1f".join((str(household_id), str(as_of)[:10], channel, str(model_version)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def deadlines(issued: date, options: WorklistOptions) -> tuple[str, str]:
    """Home check within ``check_working_days`` working days (Mon–Fri) and decision within ``decide_days``."""
    day = np.datetime64(issued, "D")
    check = np.busday_offset(day, options.check_working_days, roll="forward")
    decide = day + np.timedelta64(options.decide_days, "D")
    return str(check), str(decide)


def _basis(row: pd.Series, triggers: TriggerConfig, seed: int) -> tuple[str, str]:
    ch = row["channel"]
    if ch == "below_line":
        h = row["hardship_ratio"]
        figure = "" if pd.isna(h) else f"（扣除刚性支出后人均收入为监测标准的 {float(h):.2f} 倍）"
        en = "" if pd.isna(h) else f" (hardship income {float(h):.2f} times the line)"
        return f"已低于监测标准{figure}，应及时核实纳入帮扶", f"Already below the line{en}: verify and enrol for assistance now"
    if ch == "trigger":
        texts = [trigger_text(c, row, triggers) for c in str(row["triggers"]).split(";") if c]
        return "；".join(t[0] for t in texts), "; ".join(t[1] for t in texts)
    if ch == "model":
        return (f"模型预警：下一轮低于监测标准的风险 {float(row['risk']) * 100:.0f}%",
                f"Model early warning: {float(row['risk']) * 100:.0f}% risk of falling below the line by next round")
    if ch == "follow_up":
        if bool(row["new_shock"]):
            return "监测户：上次采集后报告了新的风险事件", "Monitored household: a new shock reported since the last survey"
        return (f"监测户：风险由 {float(row['previous_risk']) * 100:.0f}% 升至 {float(row['risk']) * 100:.0f}%",
                f"Monitored household: risk rose from {float(row['previous_risk']) * 100:.0f}% to "
                f"{float(row['risk']) * 100:.0f}%")
    if ch == "audit":
        return (f"随机抽查（随机种子 {seed}），用于评估清单遗漏", f"Random audit (seed {seed}) to measure what the list misses")
    return (f"最近一次采集为 {row['round_id']} 轮（{str(row['survey_date'])[:10]}），需重新入户采集后再评估",
            f"Latest record is from round {row['round_id']} ({str(row['survey_date'])[:10]}): re-survey before assessing")


def build(status: pd.DataFrame, *, as_of: str, model_version: str, listed: Callable[[list[str]], dict[str, Listed]],
          triggers: TriggerConfig | None = None, options: WorklistOptions | None = None,
          issued: date | None = None) -> Worklist:
    """The worklist of the households in ``status``. ``listed`` returns reasons and measures for the ids it is
    given (called once, only for households that are on the list and not stale)."""
    triggers = triggers or TriggerConfig()
    options = options or WorklistOptions()
    issued = issued or date.today()
    picked = select(status, triggers, options)
    audit_order = [] if picked.empty else _audit_sample_order(picked)
    picked["rank"] = _rank(picked, audit_order)
    order = {c: k for k, c in enumerate((*CHANNELS, STALE))}
    picked = picked.sort_values(["county", "village", "channel", "rank"], key=lambda col: col.map(order)
                                if col.name == "channel" else col, kind="stable").reset_index(drop=True)
    details = listed([h for h, c in zip(picked["household_id"], picked["channel"]) if c != STALE]) if len(picked) else {}
    check_by, decide_by = deadlines(issued, options)
    basis = [_basis(r, triggers, options.seed) for r in _rows(picked)]
    risk = _num(picked, "risk") if len(picked) else np.array([])
    shown = ~picked["channel"].isin(["below_line", STALE]).to_numpy()
    entries = pd.DataFrame({
        "alert_id": [alert_id(h, as_of, c, model_version) for h, c in zip(picked["household_id"], picked["channel"])],
        "household_id": picked["household_id"].astype(str), "county": picked["county"], "village": picked["village"],
        "channel": picked["channel"], "rank": picked["rank"].astype(int),
        "risk": np.where(shown, risk, np.nan), "tier": np.where(shown, picked["tier"].astype(object), ""),
        "triggers": picked["triggers"], "basis_zh": [b[0] for b in basis], "basis_en": [b[1] for b in basis],
        "reasons": [details.get(h, Listed()).reasons for h in picked["household_id"]],
        "measures": [details.get(h, Listed()).measures for h in picked["household_id"]],
        "check_by": check_by, "decide_by": decide_by, "as_of": str(as_of)[:10], "round_id": picked["round_id"],
        "survey_date": pd.to_datetime(picked["survey_date"]).dt.strftime("%Y-%m-%d"), "model_version": model_version,
        "audit_seed": np.where(picked["channel"] == "audit", options.seed, None),
    })
    return Worklist(entries, str(as_of)[:10], issued.isoformat(), model_version, options.seed, options, triggers)


def _rows(frame: pd.DataFrame):
    """Each row as a dict of Python values (as ``iterrows`` gives them), one at a time, without a Series each."""
    names = list(frame.columns)
    for values in zip(*(frame[c].tolist() for c in names)):
        yield dict(zip(names, values))


def _audit_sample_order(picked: pd.DataFrame) -> list[str]:
    """Audit households in the order they were listed by ``select`` (sorted by id: sampling is unordered)."""
    return sorted(picked.loc[picked["channel"] == "audit", "household_id"].astype(str))
