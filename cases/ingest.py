"""``povwatch outcomes ingest``: visit outcomes into the case store, the way survey files go into the warehouse.

Policies (as for survey ingest, ``docs/cases.md``):

* English or Chinese headers and codes; validated by the contract's ``outcomes`` table (types, codes, which
  fields go with which outcome, date order); identity-number-shaped household and verifier ids pseudonymised
  before anything is stored; person-identifying columns dropped;
* every file of the call is read and validated before anything is written; a file that cannot be read at all
  stops the call and nothing is written;
* the accepted rows of all files are stored in one transaction, in file and row order (a later row of an alert
  becomes its current state; earlier ones stay as history); an outcome for an ``alert_id`` that no recorded
  worklist issued, or for another household than the alert's, is refused with that reason;
* refused rows go to ``<warehouse>/quarantine/outcomes/`` with their reasons, one file per source file named by
  its content digest; loading the same file twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cases.store import CaseStore
from features.data.contract import OUTCOMES, table_for_file
from features.data.ingest import SUFFIXES, IntakeCounts, _safe_stem, read_table_file
from features.data.validate import REJECTED_EXTRA, ContractError, validate_frame
from features.data.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class OutcomeIngestSummary(IntakeCounts):
    """What one call did: rows read, accepted (new + already stored), rejected, and where the rejects went."""

    new: int = 0
    unchanged: int = 0

    @property
    def accepted(self) -> int:
        return self.new + self.unchanged

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"outcomes": {"read", "accepted", "rejected", "new", "unchanged"}}`` — the ``--json`` output."""
        return {"outcomes": {"read": self.read, "accepted": self.accepted, "rejected": self.rejected,
                             "new": self.new, "unchanged": self.unchanged}}


def outcome_files(paths: list[Path]) -> list[Path]:
    """Files given by name (whatever their name), and the outcomes files found in folders given."""
    out: list[Path] = []
    for given in map(Path, paths):
        if not given.exists():
            raise ContractError(f"{given}: no such file or folder")
        if given.is_file():
            out.append(given)
            continue
        found = sorted(p for p in given.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                       and (t := table_for_file(p.stem)) is not None and t.name == OUTCOMES.name)
        out.extend(found)
    if not out:
        raise ContractError(f"no outcomes files in {', '.join(map(str, paths))} (expected .csv or .parquet "
                            f"named outcomes* or {OUTCOMES.zh}*)")
    return out


def ingest_outcomes(paths: list[Path], store: CaseStore, warehouse: Warehouse) -> OutcomeIngestSummary:
    """Validate and store outcome files; see the module docstring for the policies."""
    files = outcome_files(paths)
    summary = OutcomeIngestSummary(files=[str(f) for f in files])
    accepted, sources, rejected, digests = [], [], [], []
    for i, f in enumerate(files):
        raw, digest = read_table_file(f)
        result = validate_frame(OUTCOMES.name, raw, source=str(f))
        summary.read += len(raw)
        summary.unknown_columns += [c for c in result.unknown_columns if c not in summary.unknown_columns]
        summary.dropped_pii_columns += [c for c in result.dropped_pii_columns if c not in summary.dropped_pii_columns]
        accepted.append(result.accepted.assign(_file=i, _pos=result.accepted.index))
        sources += [f.name] * len(result.accepted)
        rejected.append(result.rejected.assign(_file=i))
        raw_accepted = result.accepted_raw.assign(_file=i, _pos=result.accepted_raw.index)
        digests.append((digest, raw_accepted))
    rows = pd.concat(accepted, ignore_index=True)
    write = store.record_outcomes(rows[OUTCOMES.names], source=sources)
    if len(write.rejected):
        raw_all = pd.concat([r for _, r in digests], ignore_index=True).fillna("")
        refused = raw_all.loc[write.rejected["row"].to_numpy()].copy()
        refused["reason"] = write.rejected["reason"].to_numpy()
        refused["rule"] = write.rejected["rule"].to_numpy()
        refused["source_file"] = [str(files[i]) for i in refused["_file"]]
        refused["source_row"] = (refused["_pos"] + 1).astype("int64")
        rejected.append(refused.drop(columns=["_pos"]))
    summary.new, summary.unchanged = write.new, write.unchanged
    quarantine = _quarantine(warehouse, files, [d for d, _ in digests], rejected)
    summary.quarantine_files = quarantine
    all_rejected = pd.concat([r for r in rejected if len(r)], ignore_index=True) if any(len(r) for r in rejected) \
        else pd.DataFrame(columns=["rule"])
    summary.rejected = len(all_rejected)
    if summary.accepted + summary.rejected != summary.read:  # nothing may vanish
        raise RuntimeError(f"outcomes: read {summary.read} rows but accounted for {summary.accepted + summary.rejected}")
    if summary.rejected:
        counts = all_rejected["rule"].str.split("; ").explode().value_counts()
        summary.top_reasons = [(str(k), int(v)) for k, v in counts.head(5).items()]
    log.info("outcomes ingest: read %d, new %d, unchanged %d, rejected %d", summary.read, summary.new,
             summary.unchanged, summary.rejected)
    return summary


def _quarantine(warehouse: Warehouse, files: list[Path], digests: list[str], rejected: list[pd.DataFrame]) -> list[str]:
    """One Parquet file of rejected rows (as read, with reasons) per source file that had any."""
    frames = [r for r in rejected if len(r)]
    if not frames:
        return []
    rej = pd.concat(frames, ignore_index=True)
    out, written = {}, []
    for i, rows in rej.groupby("_file"):
        i = int(i)
        frame = rows.reindex(columns=[*OUTCOMES.names, *REJECTED_EXTRA])
        for col in OUTCOMES.names:
            frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
        frame = frame.sort_values("source_row", kind="stable").reset_index(drop=True)
        frame["source_row"] = frame["source_row"].astype("int64")
        path = warehouse.quarantine_dir(OUTCOMES.name) / f"{_safe_stem(str(files[i]))}-{digests[i][:12]}.parquet"
        written.append(str(path))
        out[path] = frame
    warehouse.write(out)
    return written
