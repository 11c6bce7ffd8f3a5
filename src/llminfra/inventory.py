"""Turn a stack file into pyinfra inventory groups with typed host data."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .model import GatewayHost, GpuHost, RelayHost, Stack, StackError, load_stack
from .model.safety import check_pins
from .model.sshfiles import KeyFileError, NeedsPassphrase, load_private_key
from .paths import write_known_hosts

HostEntry = tuple[str, dict[str, Any]]


def host_data(stack: Stack, name: str, known_hosts: Path) -> dict[str, Any]:
    settings: GpuHost | GatewayHost | RelayHost = stack.host(name)  # type: ignore[assignment]
    ssh = settings.ssh
    data: dict[str, Any] = {
        "ssh_hostname": ssh.host,
        "ssh_port": ssh.port,
        "ssh_user": ssh.user,
        "ssh_known_hosts_file": ssh.known_hosts or str(known_hosts),
        # "yes": a host whose key is not pinned is refused, never silently trusted.
        "ssh_strict_host_key_checking": "yes",
        "llminfra_name": name,
        "llminfra_role": stack.role(name),
        "llminfra_stack": stack,
    }
    if ssh.key and ssh.key_password:
        data["ssh_key"] = os.path.expanduser(ssh.key)
        data["ssh_key_password"] = stack.secret(ssh.key_password)
    elif ssh.key and not _encrypted(ssh.key):
        data["ssh_key"] = os.path.expanduser(ssh.key)
    # No key, or an encrypted one without its passphrase: pyinfra offers ssh-agent's keys (the
    # admin tunnel does the same), instead of prompting in the middle of a deploy.
    if ssh.sudo:
        data["_sudo"] = True
    return data


def _encrypted(key: str) -> bool:
    try:
        load_private_key(key, None)
    except NeedsPassphrase:
        return True
    except KeyFileError:
        return False  # `check` has reported it already; pyinfra names it again
    return False


def pyinfra_groups(stack_file: str | Path) -> dict[str, list[HostEntry]]:
    """`{"gpu_hosts": [...], "gateways": [...], "relays": [...]}` for an inventory module.

    Validation errors are printed one per line and the process exits with status 2, before
    pyinfra connects anywhere.
    """
    stack_file = Path(stack_file)
    try:
        stack = load_stack(stack_file)
        if unpinned := check_pins(stack):
            raise StackError(unpinned)
    except StackError as exc:
        for err in exc.lines:
            print(err, file=sys.stderr)
        raise SystemExit(2) from None
    try:
        known = write_known_hosts(stack)
    except OSError as exc:
        print(f"stack: cannot write the pinned host keys: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return {
        section: [(n, host_data(stack, n, known)) for n in getattr(stack, section)]
        for section in ("gpu_hosts", "gateways", "relays")
    }
