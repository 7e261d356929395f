"""Bearer tokens and their scopes, for the service's guard.

* ``POVWATCH_API_TOKEN``: one token with every scope (kept for single-user set-ups);
* ``POVWATCH_API_TOKENS``: a JSON object, inline or in a file whose path is given, mapping the **sha256 hex
  digest** of each token to its scopes (a list, or one string separated by commas/spaces), e.g.
  ``{"9f86d08...": ["score", "explain"], "2c26b46...": "outcomes:write"}``. Only digests are configured, so the
  file does not hold the tokens themselves; ``printf %s "$TOKEN" | sha256sum`` gives one.

A request without a known token is 401; a known token without the endpoint's scope is 403. Paths outside the
scope table (``/docs.json``, the root page) need any known token; health and metrics stay open (the guard).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_ENV = "POVWATCH_API_TOKEN"
TOKENS_ENV = "POVWATCH_API_TOKENS"
SCOPES = ("score", "explain", "report", "worklist", "outcomes:write", "model")
PATH_SCOPES = {"/score": "score", "/explain": "explain", "/report": "report", "/worklist": "worklist",
               "/outcomes": "outcomes:write", "/model": "model"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TokenConfigError(ValueError):
    """``POVWATCH_API_TOKENS`` cannot be read or names an unknown scope; the service refuses to start."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _scopes(value: object, where: str) -> frozenset[str]:
    items = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise TokenConfigError(f"{TOKENS_ENV}: scopes of {where} must be a list of names or one string; "
                               f"allowed: {', '.join(SCOPES)}")
    unknown = sorted({s for s in items if s} - set(SCOPES))
    if unknown:
        raise TokenConfigError(f"{TOKENS_ENV}: {where} has unknown scope(s) {', '.join(unknown)}; "
                               f"allowed: {', '.join(SCOPES)}")
    return frozenset(s for s in items if s)


def _read_mapping(text: str) -> dict:
    source = text.strip()
    if not source.startswith("{"):
        path = Path(source).expanduser()
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as e:
            raise TokenConfigError(f"{TOKENS_ENV}: neither a JSON object nor a readable file ({path}: "
                                   f"{e.strerror})") from e
    try:
        mapping = json.loads(source)
    except ValueError as e:
        raise TokenConfigError(f"{TOKENS_ENV}: not valid JSON ({e})") from e
    if not isinstance(mapping, dict):
        raise TokenConfigError(f"{TOKENS_ENV}: expected a JSON object mapping sha256 token digests to scopes")
    return mapping


@dataclass(frozen=True)
class Tokens:
    """Known token digests and their scopes; empty means the API is open (no token configured)."""

    scopes_by_digest: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> Tokens:
        out: dict[str, frozenset[str]] = {}
        configured = os.environ.get(TOKENS_ENV, "")
        if configured.strip():
            for digest, scopes in _read_mapping(configured).items():
                key = str(digest).strip().lower()
                if not _SHA256.fullmatch(key):
                    raise TokenConfigError(f"{TOKENS_ENV}: key {digest!r} is not a sha256 hex digest of a token "
                                           "(64 hex characters; printf %s TOKEN | sha256sum)")
                out[key] = _scopes(scopes, f"token {key[:8]}…")
        single = os.environ.get(TOKEN_ENV, "")
        if single:
            out[token_digest(single)] = frozenset(SCOPES)
        return cls(out)

    @property
    def enabled(self) -> bool:
        return bool(self.scopes_by_digest)

    def check(self, authorization: str, path: str) -> tuple[int, str] | None:
        """None when the request may pass; else (401 or 403, what is wrong)."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        scopes = self.scopes_by_digest.get(token_digest(token)) if scheme.lower() == "bearer" and token else None
        if scopes is None:
            return 401, "missing or wrong bearer token"
        needed = PATH_SCOPES.get(path)
        if needed is not None and needed not in scopes:
            return 403, f"this token lacks the scope {needed!r} that {path} needs"
        return None
