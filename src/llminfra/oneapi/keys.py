"""Token keys into the local tokens file, on every run (plan or apply, writes or not).

A key the gateway generated is captured whenever the local file lacks it or holds another
value - a lost create answer or a lost tokens file is repaired by the next run. Where the
gateway lists keys masked (newer New-API builds), the missing ones are read through its key
endpoint in one batch call (rate limited there); what still cannot be read is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .desired import DesiredToken
from .errors import OneAPIError
from .flavor import bare_key, is_masked
from .localstate import LocalState, secret_var
from .plan import Plan
from .wire import TokenRow


class KeyReader(Protocol):
    def token_keys(self, token_ids: Iterable[int]) -> dict[int, str]: ...


@dataclass
class KeyReport:
    captured: list[str] = field(default_factory=list)  # variable names written
    unrecoverable: list[str] = field(default_factory=list)  # one line each


def _store(local: LocalState, report: KeyReport, d: DesiredToken, key: str) -> None:
    var = secret_var(d.name)
    if local.store_secret(var, "sk-" + bare_key(key)):
        report.captured.append(var)


def _unrecoverable(local: LocalState, report: KeyReport, d: DesiredToken, why: str) -> None:
    report.unrecoverable.append(
        f"token {d.server_name}: key not in {local.secrets_path} and not recoverable ({why}); "
        f"re-run later, or read it once in the gateway's UI and add it as "
        f"{secret_var(d.name)}=sk-...")


def capture_token_key(local: LocalState, report: KeyReport, d: DesiredToken,
                      row: TokenRow) -> bool:
    """Capture ``row``'s key if it is readable; False when it still has to be fetched."""
    if "key" not in row:  # a saved plan's rows carry no keys: the planning run captured them
        return True
    key = row.get("key") or ""
    if key and not is_masked(key):
        _store(local, report, d, key)
        return True
    # Hidden by the gateway: a key already in the file is kept when it fits the mask's visible
    # ends (New-API shows the first and last four characters), else it belonged to an earlier
    # token of that name (a re-created gateway) and the real one is fetched.
    have = local.read_secrets().get(secret_var(d.name))
    return have is not None and (not key or _fits_mask(have, key))


def _fits_mask(value: str, masked: str) -> bool:
    plain = bare_key(value)
    # some builds mask the key with its sk- prefix: compare without it on both sides
    head, tail = bare_key(masked.split("*", 1)[0]), masked.rsplit("*", 1)[-1]
    return len(plain) >= len(head) + len(tail) and plain.startswith(head) and \
        plain.endswith(tail)


def capture_keys(plan: Plan, local: LocalState, client: KeyReader | None = None,
                 report: KeyReport | None = None) -> KeyReport:
    """Capture the keys of every declared token the kit owns (adoptions once applied)."""
    report = report or KeyReport()
    missing: list[tuple[DesiredToken, TokenRow]] = []
    for a in plan.actions:
        if a.kind != "token" or a.op not in ("unchanged", "update") or a.server is None:
            continue
        if any(c.field == "owner" and c.note == "--adopt" for c in a.changes):
            continue
        row: TokenRow = a.server  # type: ignore[assignment]
        if not capture_token_key(local, report, a.token, row):
            missing.append((a.token, row))
    fetch_keys(local, report, missing, client)
    return report


def fetch_keys(local: LocalState, report: KeyReport,
               missing: list[tuple[DesiredToken, TokenRow]], client: KeyReader | None) -> None:
    """Read hidden keys through the gateway's key endpoint; report what stays hidden."""
    if not missing:
        return
    keys: dict[int, str] = {}
    why = "the gateway hides it in listings"
    if client is not None:
        try:
            keys = client.token_keys([row.get("id", 0) for _, row in missing])
        except OneAPIError as exc:
            why = f"reading it failed: {exc}"
    for d, row in missing:
        key = keys.get(row.get("id", 0), "")
        if key and not is_masked(key):
            _store(local, report, d, key)
        else:
            _unrecoverable(local, report, d, why)
