"""`llminfra hostkey`: what key a host presents, against what the inventory pins.

Rented GPU boxes get reinstalled; their host key changes and every SSH connection is then
refused (as it must be). This shows the presented key and both fingerprints, and re-pins only
after the operator confirms, by rewriting that one `host_key:` value in the stack file.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .model import Stack

# strongest first: the one we offer to pin when a host presents several
KEY_PREFERENCE = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521", "ssh-rsa")


class HostKeyError(Exception):
    """A problem the operator can act on; printed as one line."""


@dataclass(frozen=True)
class Presented:
    key: str  # "ssh-ed25519 AAAA..."

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def fingerprint(key_line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line (`ssh-keygen -lf` shows the same)."""
    try:
        blob = base64.b64decode(key_line.split()[1], validate=True)
    except (IndexError, ValueError):
        return "(not a public key)"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def keyscan_argv(host: str, port: int, timeout: int = 10) -> list[str]:
    return ["ssh-keyscan", "-T", str(timeout), "-p", str(port), "-t", "ed25519,ecdsa,rsa", host]


def parse_keyscan(output: str) -> list[Presented]:
    keys = []
    for raw in output.splitlines():
        parts = raw.split()
        if raw.startswith("#") or len(parts) < 3 or parts[1] not in KEY_PREFERENCE:
            continue
        keys.append(Presented(f"{parts[1]} {parts[2]}"))
    return sorted(keys, key=lambda p: KEY_PREFERENCE.index(p.key.split()[0]))


def scan(host: str, port: int) -> list[Presented]:
    try:
        proc = subprocess.run(keyscan_argv(host, port), capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise HostKeyError("ssh-keyscan is missing: install openssh-client") from None
    except subprocess.TimeoutExpired:
        raise HostKeyError(f"{host}:{port} did not answer within 30 s") from None
    keys = parse_keyscan(proc.stdout)
    if not keys:
        raise HostKeyError(f"{host}:{port} presented no SSH host key (unreachable, or not sshd)")
    return keys


def pinned_matches(pinned: str | None, presented: list[Presented]) -> bool:
    return pinned is not None and any(p.key == pinned for p in presented)


def repin(stack_file: Path, old: str | None, new: str, host_name: str) -> None:
    """Replace the one `host_key: <old>` value in the stack file, keeping everything else."""
    text = stack_file.read_text()
    if old is None:
        raise HostKeyError(f"{host_name}: no host_key is pinned yet; add under its ssh section:\n"
                           f"      host_key: {new}")
    pattern = re.compile(r"(host_key:\s*['\"]?)" + re.escape(old) + r"(['\"]?)")
    hits = pattern.findall(text)
    if len(hits) != 1:
        raise HostKeyError(f"{host_name}: the pinned key appears {len(hits)} times in "
                           f"{stack_file}; edit it by hand")
    stack_file.write_text(pattern.sub(lambda m: m.group(1) + new + m.group(2), text))


def describe(stack: Stack, name: str, presented: list[Presented]) -> list[str]:
    ssh = stack.host(name).ssh
    lines = [f"{name}: {ssh.host}:{ssh.port} presents:"]
    lines += [f"  {p.key}\n    {p.fingerprint}" for p in presented]
    if ssh.host_key:
        lines.append(f"pinned in the inventory:\n  {ssh.host_key}\n    {fingerprint(ssh.host_key)}")
    else:
        lines.append("pinned in the inventory: nothing")
    return lines
