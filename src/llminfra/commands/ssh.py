"""SSH: key pairs, tunnel-only authorized_keys options, autossh forwards."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand


def keypair_state(path: str) -> StringCommand:
    """Print ``private`` if the key exists and ``public <line>`` for its ``.pub``."""
    return StringCommand(
        "! test -e", QuoteString(path), "|| echo private;",
        "! test -e", QuoteString(f"{path}.pub"), "|| sed 's/^/public /'",
        QuoteString(f"{path}.pub"),
    )  # fmt: skip


def ssh_keygen(path: str, comment: str) -> StringCommand:
    """Create an ed25519 key pair (no passphrase) and its parent directory (0700)."""
    parent = path.rsplit("/", 1)[0] or "/"
    return StringCommand(
        "mkdir -p -m 700", QuoteString(parent),
        "&& ssh-keygen -q -t ed25519 -N '' -C", QuoteString(comment), "-f", QuoteString(path),
    )  # fmt: skip


def ssh_public_key_from_private(path: str) -> StringCommand:
    return StringCommand("ssh-keygen -y -f", QuoteString(path), ">", QuoteString(f"{path}.pub"))


def tunnel_key_options(permit: list[str]) -> str:
    """authorized_keys options for a key that may only forward to ``permit`` (``host:port``).

    ``restrict`` alone still lets the key run commands (without a pty): the forced
    ``command="/bin/false"`` stops that, while ``ssh -N`` forwarding keeps working.
    """
    opens = ",".join(f'permitopen="{target}"' for target in permit)
    return f'restrict,port-forwarding,{opens},command="/bin/false"'


def autossh_argv(
    *,
    user: str,
    host: str,
    key_path: str,
    known_hosts: str,
    local_port: int,
    target: str,
    port: int = 22,
    bind: str = "127.0.0.1",
    alive_interval: int = 15,
    alive_count: int = 3,
    more: tuple[str, ...] = (),
) -> list[str]:
    """argv of an autossh local forward: ``bind:local_port`` -> ``target`` (``host:port`` as
    the far side's ``permitopen`` names it); ``more`` holds further ``-L`` specs
    (``bind:port:host:port``) carried by the same connection."""
    extra = [word for spec in more for word in ("-L", spec)]
    return [
        "autossh", "-M", "0", "-N",
        "-o", "ExitOnForwardFailure=yes",
        "-o", f"ServerAliveInterval={alive_interval}",
        "-o", f"ServerAliveCountMax={alive_count}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "IdentitiesOnly=yes",
        "-i", key_path,
        "-L", f"{bind}:{local_port}:{target}",
        *extra,
        "-p", str(port),
        f"{user}@{host}",
    ]  # fmt: skip
