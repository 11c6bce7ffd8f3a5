"""The portable half of a gateway backup: channels and tokens as JSON, read and re-created
through the admin API (docs/gateway-contract.md §11.2).

``export.json`` holds no secret; ``secrets.json`` (0600) holds the keys by object id: token
keys as the gateway shows them (New-API reveals masked ones through its key endpoint),
channel keys from the inventory for the kit's own channels (neither gateway lets a key be
read back, so a hand-made channel's key is only in the database copy).

Re-creating through the API brings every channel back with its key, and every token with its
name, limits, quota and status, but with a NEW key: neither gateway accepts a key on create.
Only the database restore keeps client keys; the import reports each replaced one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from llminfra.oneapi import flavor as fl
from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.registry import OPTION_KEY, Registry
from llminfra.oneapi.wire import ChannelRow, TokenRow

FORMAT = "llminfra.gateway-export/1"
EXPORT_FILE, SECRETS_FILE = "export.json", "secrets.json"
# Fields worth carrying over; counters, timestamps and balances belong to the old gateway.
CHANNEL_FIELDS = ("id", "type", "name", "status", "base_url", "models", "group",
                  "model_mapping", "priority", "weight", "other", "config", "system_prompt",
                  "test_model", "tag", "setting", "settings", "param_override",
                  "header_override", "remark", "auto_ban", "openai_organization",
                  "status_code_mapping")
TOKEN_FIELDS = ("id", "name", "status", "expired_time", "remain_quota", "unlimited_quota",
                "used_quota", "models", "subnet", "group")
CREATE_TOKEN = ("name", "expired_time", "remain_quota", "unlimited_quota", "models", "subnet")
ENABLED, DISABLED = 1, 2

JsonObj = dict[str, Any]


class ExportError(Exception):
    """The export cannot be written, read or imported as asked; one line."""


@dataclass
class Export:
    flavor: str
    channels: list[JsonObj]
    tokens: list[JsonObj]
    channel_keys: dict[str, str] = field(default_factory=dict)  # str(id) -> key
    token_keys: dict[str, str] = field(default_factory=dict)  # str(id) -> key (no sk-)
    registry: str = ""  # the kit's ownership record on the gateway (fingerprints, no keys)

    @property
    def channels_without_key(self) -> list[str]:
        return [c["name"] for c in self.channels if str(c["id"]) not in self.channel_keys]


def _pick(row: Mapping[str, Any], names: tuple[str, ...]) -> JsonObj:
    return {k: row[k] for k in names if k in row and row[k] is not None}


def export_gateway(client: OneAPIClient, known_channel_keys: Mapping[str, str]) -> Export:
    """Read every channel and (own) token; ``known_channel_keys`` maps channel names to keys
    (the inventory's, for the kit's own channels)."""
    channels = [_pick(c, CHANNEL_FIELDS) for c in client.list_channels()]
    raw_tokens = client.list_tokens()
    tokens = [_pick(t, TOKEN_FIELDS) for t in raw_tokens]
    keys = {str(t["id"]): str(t["key"]) for t in raw_tokens
            if t.get("key") and not fl.is_masked(t["key"])}
    hidden = [t["id"] for t in raw_tokens if str(t["id"]) not in keys]
    keys.update({str(i): k for i, k in client.token_keys(hidden).items()})
    channel_keys = {str(c["id"]): known_channel_keys[c["name"]] for c in channels
                    if c["name"] in known_channel_keys}
    registry = client.get_options().get(OPTION_KEY, "")
    return Export(client.flavor, channels, tokens, channel_keys, keys, registry)


def _write(path: Path, data: object, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_export(export: Export, directory: Path) -> list[Path]:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    public = {"format": FORMAT, "flavor": export.flavor, "exported_at": int(time.time()),
              "channels": export.channels, "tokens": export.tokens,
              "registry": export.registry}
    secrets = {"format": FORMAT, "channels": export.channel_keys, "tokens": export.token_keys}
    _write(directory / EXPORT_FILE, public, 0o644)
    _write(directory / SECRETS_FILE, secrets, 0o600)
    return [directory / EXPORT_FILE, directory / SECRETS_FILE]


def read_export(directory: Path) -> Export:
    try:
        public = json.loads((directory / EXPORT_FILE).read_text(encoding="utf-8"))
        secrets = json.loads((directory / SECRETS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{directory}: cannot read the export ({exc})") from None
    if public.get("format") != FORMAT or secrets.get("format") != FORMAT:
        raise ExportError(f"{directory}: not an {FORMAT} export")
    return Export(public["flavor"], public["channels"], public["tokens"],
                  dict(secrets.get("channels") or {}), dict(secrets.get("tokens") or {}),
                  str(public.get("registry") or ""))


@dataclass
class ImportReport:
    channels: int = 0
    tokens: int = 0
    skipped: list[str] = field(default_factory=list)  # one line each
    new_keys: dict[str, str] = field(default_factory=dict)  # token name -> new key (no sk-)


def _is_empty(client: OneAPIClient) -> bool:
    # OneAPI's INITIAL_ROOT_TOKEN row is made by the gateway itself, not by a user
    tokens = [t for t in client.list_tokens() if t.get("name") != "Initial Root Token"]
    return not client.list_channels() and not tokens


def import_export(client: OneAPIClient, export: Export, *, force: bool = False) -> ImportReport:
    """Re-create the export's channels and tokens in an empty gateway of the same flavour."""
    if export.flavor != client.flavor:
        raise ExportError(f"the export is from {export.flavor} and the gateway runs "
                          f"{client.flavor}: channel type ids differ; apply the inventory "
                          "to the new gateway instead")
    if not force and not _is_empty(client):
        raise ExportError("the gateway already has channels or tokens; import only into an "
                          "empty gateway (or pass --force)")
    report = ImportReport()
    for ch in export.channels:
        key = export.channel_keys.get(str(ch["id"]))
        if not key:
            report.skipped.append(f"channel {ch['name']}: no key in the export (hand-made "
                                  "channel; the database restore keeps it)")
            continue
        body = {k: v for k, v in ch.items() if k != "id"}
        client.create_channel(dict(body, key=key))
        report.channels += 1
    for tok in export.tokens:
        created = client.create_token({k: tok[k] for k in CREATE_TOKEN if k in tok})
        if created is None:
            report.skipped.append(f"token {tok['name']}: created but not found again")
            continue
        if tok.get("status", ENABLED) != ENABLED:
            client.set_token_status(created["id"], DISABLED)
        report.tokens += 1
        report.new_keys[tok["name"]] = str(created.get("key") or "")
    if export.registry:
        client.set_option(OPTION_KEY, _moved_registry(client, export))
    return report


def _newest_first(rows: list[JsonObj]) -> dict[str, list[JsonObj]]:
    by_name: dict[str, list[JsonObj]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        by_name.setdefault(row["name"], []).append(row)
    return by_name


def _moved_registry(client: OneAPIClient, export: Export) -> str:
    """The kit's ownership record with every re-created object under its new id, so the next
    apply still knows them as its own. Root's verified-password mark is dropped: a fresh
    gateway's root may be back on its default password, and the next apply must check."""
    old = Registry.decode(export.registry)
    new = Registry()
    for kind, exported, rows in (("channel", export.channels, client.list_channels()),
                                 ("token", export.tokens, client.list_tokens())):
        table = old.channels if kind == "channel" else old.tokens
        fresh = _newest_first(rows)
        for item in exported:
            matches = fresh.get(item["name"]) or []
            if not matches:
                continue
            row = matches.pop(0)
            owned = table.get(item["id"])
            if owned is None:
                continue  # not the kit's before either
            if kind == "channel":  # same key, so the same fingerprint
                new.record_channel(cast(ChannelRow, row), owned.fp)
            else:
                new.record_token(cast(TokenRow, row))
    return new.encode()
