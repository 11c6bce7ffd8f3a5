"""Operator-side state, kept beside the stack file in ``.llminfra/`` and never on a host.

``inventory/.llminfra/`` holds, for a stack file ``inventory/prod.yml``:
  ``prod.known_hosts``            host keys pinned in the stack, for pyinfra and the admin tunnel
  ``tunnel-<gateway>_ed25519``    the gateway's tunnel key pair (made once, here)
  ``prod-<gateway>/``             OneAPI reconcile state: fingerprints, backups,
  ``prod-<gateway>/oneapi-tokens.env``  captured token keys (0600)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .commands.net import known_hosts_name

if TYPE_CHECKING:
    from .model import Stack

STATE_DIR = ".llminfra"
TOKENS_FILE = "oneapi-tokens.env"


@dataclass(frozen=True)
class OperatorPaths:
    base: Path  # the stack file's directory (the working directory for an in-memory stack)
    stem: str  # the stack file's name without suffix (the stack's name for an in-memory one)

    @classmethod
    def of(cls, stack: Stack) -> OperatorPaths:
        source = stack.source
        return cls(source.parent, source.stem) if source else cls(Path.cwd(), stack.name)

    @classmethod
    def beside(cls, stack_file: str | Path) -> OperatorPaths:
        stack_file = Path(stack_file)
        return cls(stack_file.parent, stack_file.stem)

    @property
    def root(self) -> Path:
        return self.base / STATE_DIR

    @property
    def known_hosts(self) -> Path:
        return self.root / f"{self.stem}.known_hosts"

    def tunnel_key(self, gateway: str) -> Path:
        return self.root / f"tunnel-{gateway}_ed25519"

    def oneapi_state(self, gateway: str) -> Path:
        return self.root / f"{self.stem}-{gateway}"

    def oneapi_tokens(self, gateway: str) -> Path:
        return self.oneapi_state(gateway) / TOKENS_FILE


def write_known_hosts(stack: Stack) -> Path:
    """The host keys pinned in the stack, one file for pyinfra and the admin tunnel; written
    only when its content changes."""
    lines = []
    for name in [*stack.gpu_hosts, *stack.gateways, *stack.relays]:
        ssh = stack.host(name).ssh
        if ssh.host_key:
            lines.append(f"{known_hosts_name(ssh.host, ssh.port)} {ssh.host_key}")
    path = OperatorPaths.of(stack).known_hosts
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def known_hosts_file(stack: Stack, host_name: str) -> str:
    """The known_hosts file that pins ``host_name``: its own ``ssh.known_hosts`` if set,
    else the one written from the stack's ``host_key`` values."""
    ssh = stack.host(host_name).ssh
    if ssh.known_hosts:
        return os.path.expanduser(ssh.known_hosts)
    return str(write_known_hosts(stack))
