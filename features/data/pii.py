"""Identifiers of persons never leave this module alive.

Two guards, applied before anything is stored, quarantined, logged or put into an error message:

* columns that identify persons (``contract.PII_COLUMNS`` and obvious variants: other case, spaces,
  full-width characters, a Chinese label containing 身份证/姓名/电话/手机/住址) are dropped;
* household or member ids that look like resident identity numbers (18 characters: 17 digits and a digit
  or X; or 15 digits) are replaced by a keyed hash (HMAC-SHA256, key from ``POVWATCH_ID_KEY``). The same key
  maps the same id to the same pseudonym in every file and round, so households stay linkable; without the
  key nobody can reverse or recompute it. With such ids and no key we refuse to run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata

import pandas as pd

from features.data.contract import PII_COLUMNS

ID_KEY_ENV = "POVWATCH_ID_KEY"
ID_NUMBER_PATTERN = r"(?:\d{17}[\dXx]|\d{15})"
ID_PREFIX = {"household_id": "h_", "member_id": "m_", "verifier_id": "v_"}
_ZH_PII_FRAGMENTS = ("身份证", "证件号", "姓名", "电话", "手机", "住址")
_DIGEST_CHARS = 20  # 80 bits of the HMAC: no collisions at any survey's scale


class MissingIdKeyError(ValueError):
    """Ids look like identity numbers but no pseudonymisation key is configured."""


def _normalise_header(header: object) -> str:
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


_PII_NORMALISED = frozenset(_normalise_header(c) for c in PII_COLUMNS)


def is_pii_column(header: object) -> bool:
    """True when a header names an identifier of a person (id number, name, phone, address)."""
    norm = _normalise_header(header)
    return norm in _PII_NORMALISED or any(f in norm for f in _ZH_PII_FRAGMENTS)


def drop_pii_columns(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``df`` without person-identifying columns, and the names of the columns dropped."""
    dropped = [str(c) for c in df.columns if is_pii_column(c)]
    return (df.drop(columns=dropped) if dropped else df), dropped


def looks_like_id_number(values: pd.Series) -> pd.Series:
    """Vectorised: which values have the shape of a Chinese resident identity number."""
    text = values.astype("object").where(values.notna(), "").astype(str).str.strip()
    return text.str.fullmatch(ID_NUMBER_PATTERN).fillna(False).astype(bool)


def id_key() -> bytes | None:
    """The pseudonymisation key from the environment, read at call time (never at import)."""
    key = os.environ.get(ID_KEY_ENV, "")
    return key.encode("utf-8") if key else None


def keyed_hash(value: str, key: bytes, prefix: str) -> str:
    """The pseudonym of one identity number (upper-cased first, so 'x' and 'X' agree)."""
    digest = hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:_DIGEST_CHARS]


def pseudonymise_ids(df: pd.DataFrame, columns: list[str] | tuple[str, ...] = tuple(ID_PREFIX), *,
                     key: bytes | None = None, source: str = "") -> pd.DataFrame:
    """A copy of ``df`` where id values shaped like identity numbers are replaced by their keyed hash.

    Other ids pass unchanged. Raises ``MissingIdKeyError`` (without echoing any value) when such ids
    appear and neither ``key`` nor ``$POVWATCH_ID_KEY`` is set.
    """
    out = df.copy()
    for col in columns:
        if col not in out.columns:
            continue
        mask = looks_like_id_number(out[col])
        if not mask.any():
            continue
        key = key or id_key()
        if key is None:
            where = f"{source}: " if source else ""
            raise MissingIdKeyError(
                f"{where}column {col} holds {int(mask.sum())} value(s) shaped like resident identity numbers; "
                f"set {ID_KEY_ENV} to a secret key so they are replaced by a keyed hash before anything is "
                f"stored (nothing was written)")
        prefix = ID_PREFIX.get(col, "x_")
        matched = out.loc[mask, col].astype(str)
        pseudonyms = {v: keyed_hash(v, key, prefix) for v in pd.unique(matched)}  # once per distinct id
        out[col] = out[col].astype("object")
        out.loc[mask, col] = matched.map(pseudonyms)
    return out
