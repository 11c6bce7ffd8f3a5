"""``llminfra gateway backup|restore``: a gateway's database plus a portable export.

Layout of ``DIR/<gateway>/`` (0700)::

    manifest.json   what was taken: flavour, database kind, sizes and sha256, counts
    database.tar    SQLite: the container's /data, copied while the gateway is paused (0600)
    database.sql    MySQL: mysqldump of the gateway's database (0600)
    export.json     channels and tokens, no secrets (see export.py)
    secrets.json    their keys (0600)

``restore`` puts the database back into an empty gateway (stopped for the swap, started
again) and then checks through the admin API that the same channels and tokens, with the
same token keys, are there. ``restore --from-export`` re-creates them through the API
instead (another database engine, say); client keys then change and are reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from llminfra.commands import gateway_db as db
from llminfra.model import Stack
from llminfra.oneapi import flavor as fl
from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import MARKER
from llminfra.oneapi.errors import OneAPIError
from llminfra.oneapi.from_stack import desired_state, flavor_of
from llminfra.oneapi.localstate import LocalState, secret_var
from llminfra.oneapi.session import admin_client, admin_endpoint
from llminfra.paths import OperatorPaths, known_hosts_file

from .export import ExportError, export_gateway, import_export, read_export, write_export

MANIFEST = "manifest.json"
FORMAT = "llminfra.gateway-backup/1"
READY_TIMEOUT = 120.0


class BackupError(Exception):
    """A backup or restore step failed; one line, no secrets."""


class Runner(Protocol):
    def __call__(self, script: str, stdin: bytes | None = None) -> bytes: ...


def ssh_runner(stack: Stack, gateway: str, timeout: float = 1800.0) -> Runner:
    """Run scripts on the gateway with the system ssh client and the stack's pinned host key."""
    ssh = stack.gateways[gateway].ssh
    base = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts_file(stack, gateway)}",
            "-o", "ConnectTimeout=10", "-p", str(ssh.port)]
    if ssh.key:
        base += ["-i", os.path.expanduser(ssh.key), "-o", "IdentitiesOnly=yes"]
    base.append(f"{ssh.user}@{ssh.host}")

    def run(script: str, stdin: bytes | None = None) -> bytes:
        argv = db.remote_argv(base, script, sudo=ssh.sudo)
        try:
            proc = subprocess.run(argv, input=stdin or b"", capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BackupError(f"no answer from {ssh.host} within {timeout:.0f} s") from None
        if proc.returncode != 0:
            why = proc.stderr.decode(errors="replace").strip().splitlines() or ["failed"]
            raise BackupError(f"{ssh.host}: exit {proc.returncode}: {why[-1][:200]}")
        return proc.stdout
    return run


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _database(stack: Stack, gateway: str) -> tuple[str, str, str]:
    """(kind, file name, project dir) of the gateway's database."""
    oa = stack.gateways[gateway].oneapi_settings
    if oa.database == "mysql":
        return "mysql", "database.sql", oa.data_dir
    return "sqlite", "database.tar", oa.data_dir


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def backup(stack: Stack, gateway: str, dest: Path, *, runner: Runner | None = None,
           admin_url: str | None = None) -> Outcome:
    out = Outcome()
    target = dest / gateway
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    kind, name, project = _database(stack, gateway)
    run = runner or ssh_runner(stack, gateway)
    data = run(db.mysql_dump(project) if kind == "mysql" else db.sqlite_copy_out(project))
    if not data:
        raise BackupError(f"the {kind} copy came back empty")
    _write_private(target / name, data)
    keys = {c.server_name: c.key for c in desired_state(stack, gateway).channels}
    with admin_client(stack, gateway, admin_url) as client:
        export = export_gateway(client, keys)
    write_export(export, target)
    manifest = {"format": FORMAT, "gateway": gateway, "flavor": export.flavor,
                "database": {"kind": kind, "file": name, "bytes": len(data),
                             "sha256": _sha256(data)},
                "created": int(time.time()), "channels": len(export.channels),
                "tokens": len(export.tokens),
                "channels_without_key": export.channels_without_key}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    out.lines.append(f"{gateway}: {kind} database {len(data)} bytes, {len(export.channels)} "
                     f"channels, {len(export.tokens)} tokens -> {target}")
    out.warnings += [f"{gateway}: channel {n}: key only in the database copy (not declared "
                     "in the inventory)" for n in export.channels_without_key]
    return out


def _manifest(source: Path, stack: Stack, gateway: str) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source}: no readable {MANIFEST} ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: not an {FORMAT} backup")
    if manifest["flavor"] != flavor_of(stack, gateway):
        raise BackupError(f"{source}: taken from {manifest['flavor']}, but the inventory runs "
                          f"{flavor_of(stack, gateway)} on {gateway}")
    return manifest


def _gateway_is_empty(url: str, stack: Stack, gateway: str, admin_url: str | None) -> bool:
    if flavor_of(stack, gateway) == fl.NEWAPI:
        with OneAPIClient(url, "-", flavor=fl.NEWAPI) as probe:
            if probe.setup_status().get("status") is not True:
                return True  # no root yet: nothing can be in it
    with admin_client(stack, gateway, admin_url or url) as client:
        tokens = [t for t in client.list_tokens() if t.get("name") != "Initial Root Token"]
        return not client.list_channels() and not tokens


def _wait_ready(url: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with OneAPIClient(url, "-", retries=0) as probe:
                probe.status()
                return
        except OneAPIError:
            if time.monotonic() > deadline:
                raise BackupError(f"the gateway did not answer /api/status within "
                                  f"{timeout:.0f} s after the restore") from None
            time.sleep(1)


def _verify(client: OneAPIClient, source: Path) -> list[str]:
    """Differences between the gateway now and the export taken with the backup."""
    export = read_export(source)
    problems = []
    have = {c["id"]: c for c in client.list_channels()}
    for ch in export.channels:
        got = have.get(ch["id"])
        if got is None or (got["name"], got["type"], got.get("models")) != (
                ch["name"], ch["type"], ch.get("models")):
            problems.append(f"channel {ch['name']} (id {ch['id']}) differs or is missing")
    tokens = {t["id"]: t for t in client.list_tokens()}
    keys = client.token_keys(list(tokens))
    for tok in export.tokens:
        if tokens.get(tok["id"], {}).get("name") != tok["name"]:
            problems.append(f"token {tok['name']} (id {tok['id']}) is missing")
        elif keys.get(tok["id"]) != export.token_keys.get(str(tok["id"])):
            problems.append(f"token {tok['name']}: key differs from the backup")
    return problems


def restore(stack: Stack, gateway: str, source_dir: Path, *, runner: Runner | None = None,
            admin_url: str | None = None, from_export: bool = False,
            force: bool = False) -> Outcome:
    source = source_dir / gateway
    manifest = _manifest(source, stack, gateway)
    if from_export:
        return _restore_export(stack, gateway, source, admin_url, force)
    kind, name, project = _database(stack, gateway)
    if manifest["database"]["kind"] != kind:
        raise BackupError(f"{source}: a {manifest['database']['kind']} backup, but the "
                          f"inventory's database is {kind} (use --from-export)")
    data = (source / name).read_bytes()
    if _sha256(data) != manifest["database"]["sha256"]:
        raise BackupError(f"{source / name}: checksum differs from the manifest")
    run = runner or ssh_runner(stack, gateway)
    out = Outcome()
    with admin_endpoint(stack, gateway, admin_url) as url:
        if not force and not _gateway_is_empty(url, stack, gateway, admin_url):
            raise BackupError("the gateway already has channels or tokens; restore only into "
                              "an empty gateway (or pass --force to replace its database)")
        run(db.mysql_restore(project) if kind == "mysql" else db.sqlite_restore(project), data)
        _wait_ready(url)
        with admin_client(stack, gateway, admin_url or url) as client:
            problems = _verify(client, source)
    if problems:
        raise BackupError("restored, but " + "; ".join(problems))
    out.lines.append(f"{gateway}: {kind} database restored; {manifest['channels']} channels "
                     f"and {manifest['tokens']} tokens with the same ids and keys")
    return out


def _restore_export(stack: Stack, gateway: str, source: Path, admin_url: str | None,
                    force: bool) -> Outcome:
    out = Outcome()
    export = read_export(source)
    try:
        with admin_client(stack, gateway, admin_url) as client:
            report = import_export(client, export, force=force)
    except ExportError as exc:
        raise BackupError(str(exc)) from None
    local = LocalState(str(OperatorPaths.of(stack).oneapi_state(gateway)))
    for token_name, key in report.new_keys.items():
        if token_name.startswith(MARKER) and key:
            local.store_secret(secret_var(token_name[len(MARKER):]), "sk-" + key)
    out.lines.append(f"{gateway}: {report.channels} channels and {report.tokens} tokens "
                     "re-created through the API")
    out.warnings += report.skipped
    out.warnings += [f"token {n}: new key (an import cannot keep keys; restore the database "
                     "to keep them)" for n in report.new_keys]
    return out


def run_cli(stack: Stack, gateways: list[str], action: str, directory: Path,
            **kwargs: Any) -> int:
    step: Callable[..., Outcome] = backup if action == "backup" else restore
    status = 0
    for gw in gateways:
        try:
            outcome = step(stack, gw, directory, **kwargs)
        except (BackupError, OneAPIError, ExportError, OSError) as exc:
            print(f"{gw}: {action}: {exc}", file=sys.stderr)
            status = 1
            continue
        for line in outcome.lines:
            print(line)
        for line in outcome.warnings:
            print(f"{gw}: {action}: warning: {line}", file=sys.stderr)
    return status
