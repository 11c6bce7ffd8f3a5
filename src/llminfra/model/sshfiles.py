"""Operator-side SSH files, checked the way pyinfra and the admin tunnel will load them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import paramiko

MAX_FILE = 1024 * 1024


def _read(path: Path) -> tuple[str | None, str | None]:
    """(text, problem)."""
    try:
        if path.is_dir():
            return None, f"{path} is a directory, not a file"
        if not path.exists():
            return None, f"{path} does not exist"
        if not path.is_file():
            return None, f"{path} is not a regular file"
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE + 1)
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    if len(raw) > MAX_FILE:
        return None, f"{path} is larger than 1 MiB"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"{path} is not a text file"


class KeyFileError(Exception):
    """A private key file that cannot be used; the message names why (never the passphrase)."""


class NeedsPassphrase(KeyFileError):
    """The key is encrypted and no passphrase was given."""


def load_private_key(path: Path | str, password: str | None) -> paramiko.PKey:
    """The key as pyinfra and the admin tunnel load it (paramiko), or KeyFileError."""
    path = Path(path).expanduser()
    try:
        return paramiko.PKey.from_path(path, passphrase=password.encode() if password else None)
    except paramiko.PasswordRequiredException:
        raise NeedsPassphrase(f"{path} is encrypted") from None
    except TypeError as exc:  # cryptography, for OpenSSH-format keys without a passphrase
        if "password" in str(exc).lower() and not password:
            raise NeedsPassphrase(f"{path} is encrypted") from None
        raise KeyFileError(f"{path} is not a private key paramiko can load") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - any content of a user's file becomes a message
        if password:
            raise KeyFileError(f"{path} does not load with the passphrase in key_password "
                            "(wrong passphrase?)") from None
        detail = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise KeyFileError(f"{path} is not a private key paramiko can load ({detail})") from None


def private_key_problem(path: Path, password: str | None, password_declared: bool) -> str | None:
    text, problem = _read(path)
    if problem:
        return problem
    assert text is not None
    if "PRIVATE KEY-----" not in text:
        return f"{path} holds no private key (-----BEGIN ... PRIVATE KEY-----)"
    try:
        load_private_key(path, password)
    except NeedsPassphrase:
        if password_declared:
            return None  # the secret is missing: check_secrets names it
        if not os.environ.get("SSH_AUTH_SOCK"):
            return (f"{path} is encrypted: set key_password to a secret holding its "
                    "passphrase, or add it to a running ssh-agent (SSH_AUTH_SOCK is not set)")
    except KeyFileError as exc:
        return str(exc)
    return _too_open(path)


def _too_open(path: Path) -> str | None:
    """OpenSSH (`llminfra admin`, the certificate fetch of `clients`/`status`) refuses a
    private key that others can read, while paramiko would use it: refuse it here first."""
    try:
        st = path.expanduser().stat()
    except OSError:
        return None
    mode = st.st_mode
    if mode & 0o077 and st.st_uid == os.getuid():  # ssh checks only its own user's keys
        return (f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}); ssh refuses "
                f"such keys (run: chmod 600 {path})")
    return None


def known_hosts_entries(text: str) -> tuple[list[paramiko.hostkeys.HostKeyEntry], str | None]:
    entries: list[paramiko.hostkeys.HostKeyEntry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        entry_line = raw.strip()
        if not entry_line or entry_line.startswith("#"):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(entry_line, number)
        except Exception:  # noqa: BLE001 - paramiko raises several kinds on bad base64
            entry = None
        if entry is None or entry.key is None:
            return entries, f"line {number} is not a known_hosts entry (host keytype base64)"
        entries.append(entry)
    return entries, None


def known_hosts_problem(path: Path) -> str | None:
    text, problem = _read(path)
    if problem:
        return problem
    assert text is not None
    entries, problem = known_hosts_entries(text)
    if problem:
        return f"{path}: {problem}"
    if not entries:
        return f"{path} holds no host keys"
    return None
