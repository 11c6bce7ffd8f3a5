"""What the kit owns on a gateway, kept ON the gateway so any clone of the inventory sees it.

One gateway option (``LlminfraRegistry``, root-only in both flavours) holds a small JSON
document:

- ``channels`` / ``tokens``: ``{id: "<created_time>:<fingerprint>"}`` for every object the kit
  created or adopted. An object with a managed name that is not listed was made by someone
  else (needs ``--adopt``); ``created_time`` guards against a database reusing an id.
- ``fp`` of a channel is a keyed fingerprint of the key last written to it: channel keys cannot
  be read back, and this lets a fresh checkout tell "unchanged" from "changed" without
  re-sending every key. Tokens carry no fingerprint (their keys are readable).
- ``pending``: ``"channel:lmi/x"`` names written *before* a create, so an object whose create
  answer was lost is recognised as ours by the next run, from any machine.
- ``root``: fingerprint of the root password last verified (new one logs in, 123456 refused).

Fingerprints are HMAC-SHA256 under a key derived from an inventory secret (never a plain hash
of the key), truncated to 64 bits: enough to notice a change, useless for confirming a guess
without the inventory secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import OneAPIError
from .wire import ChannelRow, ObjectKind, Row, TokenRow

OPTION_KEY = "LlminfraRegistry"
VERSION = 1


class Fingerprints:
    """Keyed fingerprints; the key is derived so the inventory secret itself is never used raw."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("fingerprints need a non-empty secret")
        self._key = hmac.new(secret.encode(), b"llminfra registry v1", hashlib.sha256).digest()

    def of(self, purpose: str, name: str, value: str) -> str:
        msg = b"\0".join(s.encode() for s in (purpose, name, value))
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:16]

    def channel_key(self, server_name: str, key: str) -> str:
        return self.of("channel-key", server_name, key)

    def root_password(self, password: str) -> str:
        return self.of("root-password", "root", password)


class Owned(NamedTuple):
    created: int
    fp: str = ""


@dataclass
class Registry:
    channels: dict[int, Owned] = field(default_factory=dict)
    tokens: dict[int, Owned] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    root: str = ""

    # -- (de)serialisation --------------------------------------------------------------
    @classmethod
    def decode(cls, text: str | None) -> Registry:
        if not text:
            return cls()
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("v") != VERSION:
                raise ValueError("unknown version")
            return cls(channels=_table(doc.get("channels", {})),
                       tokens=_table(doc.get("tokens", {})),
                       pending={str(p) for p in doc.get("pending", [])},
                       root=str(doc.get("root", "")))
        except (ValueError, TypeError, AttributeError) as exc:
            raise OneAPIError(f"gateway option {OPTION_KEY} is not a registry this kit can "
                              f"read ({exc}); fix or delete it, then re-run with --adopt") from None

    def encode(self) -> str:
        doc: dict[str, Any] = {
            "v": VERSION,
            "channels": {str(i): f"{o.created}:{o.fp}" for i, o in sorted(self.channels.items())},
            "tokens": {str(i): str(o.created) for i, o in sorted(self.tokens.items())},
        }
        if self.pending:
            doc["pending"] = sorted(self.pending)
        if self.root:
            doc["root"] = self.root
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    def copy(self) -> Registry:
        return Registry(dict(self.channels), dict(self.tokens), set(self.pending), self.root)

    # -- queries and updates ------------------------------------------------------------
    def table(self, kind: ObjectKind) -> dict[int, Owned]:
        return self.channels if kind == "channel" else self.tokens

    def owns(self, kind: ObjectKind, row: Row) -> bool:
        entry = self.table(kind).get(row.get("id", 0))
        return entry is not None and entry.created == row.get("created_time", 0)

    def key_fp(self, row: ChannelRow) -> str:
        entry = self.channels.get(row.get("id", 0))
        return entry.fp if entry and entry.created == row.get("created_time", 0) else ""

    def record_channel(self, row: ChannelRow, fp: str) -> None:
        self.channels[row.get("id", 0)] = Owned(row.get("created_time", 0), fp)

    def record_token(self, row: TokenRow) -> None:
        self.tokens[row.get("id", 0)] = Owned(row.get("created_time", 0))

    def forget(self, kind: ObjectKind, object_id: int) -> None:
        self.table(kind).pop(object_id, None)

    def onto(self, base: Registry, current: Registry) -> Registry:
        """This registry's changes since ``base``, replayed onto ``current`` (what the gateway
        holds now): another operator's apply in between keeps its entries."""
        out = current.copy()
        for mine, old, new in ((self.channels, base.channels, out.channels),
                               (self.tokens, base.tokens, out.tokens)):
            for gone in set(old) - set(mine):
                new.pop(gone, None)
            new.update({i: o for i, o in mine.items() if old.get(i) != o})
        out.pending = (out.pending - (base.pending - self.pending)) | (self.pending - base.pending)
        if self.root != base.root:
            out.root = self.root
        return out

    def keep_only(self, kind: ObjectKind, ids: set[int]) -> None:
        """Drop entries of objects that no longer exist on the gateway."""
        table = self.table(kind)
        for gone in set(table) - ids:
            del table[gone]


def pending_name(kind: str, server_name: str) -> str:
    return f"{kind}:{server_name}"


def _table(raw: Any) -> dict[int, Owned]:
    out: dict[int, Owned] = {}
    for key, value in dict(raw).items():
        created, _, fp = str(value).partition(":")
        out[int(key)] = Owned(int(created), fp)
    return out
