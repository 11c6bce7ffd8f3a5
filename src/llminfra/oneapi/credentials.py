"""Admin credentials per flavour (docs/gateway-contract.md §3.2 and §10.1-§10.2).

OneAPI takes the access token from the inventory (``INITIAL_ROOT_ACCESS_TOKEN`` at first
boot). New-API has no such variable: a fresh install has no user until ``POST /api/setup``
creates root, and an access token exists only after a password login asks for one. So for
New-API the kit runs the setup when the gateway reports it has none (with the inventory's root
password), logs in once, asks for a token and keeps it with the user id in a 0600 file
beside the other local state. Later runs reuse it: no login, no rotation. A missing or refused
token (another operator's machine asked for a new one, which replaces it) costs one login.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from . import flavor as fl
from .client import AdminCredentials, OneAPIClient, login_for_access
from .errors import OneAPIAuthError, OneAPIError

ROOT_USER = "root"
CACHE_FILE = "admin-credentials.json"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class CredentialCache:
    """The generated New-API token of one gateway, in ``<state dir>/admin-credentials.json``."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / CACHE_FILE

    def load(self) -> AdminCredentials | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return AdminCredentials(str(raw["access_token"]), int(raw["user_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: log in again

    def save(self, creds: AdminCredentials) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(self.path, json.dumps(
            {"access_token": creds.access_token, "user_id": creds.user_id}))

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def _still_valid(url: str, creds: AdminCredentials,
                 transport: httpx.BaseTransport | None) -> bool:
    try:
        with OneAPIClient(url, creds.access_token, flavor=fl.NEWAPI, user_id=creds.user_id,
                          transport=transport) as client:
            return int(client.get_self().get("id") or 0) == creds.user_id
    except OneAPIAuthError:
        return False


def ensure_setup(url: str, password: str, *, username: str = ROOT_USER,
                 transport: httpx.BaseTransport | None = None) -> bool:
    """Create New-API's root user when the gateway has none yet; True if it did."""
    with OneAPIClient(url, "-", flavor=fl.NEWAPI, transport=transport) as client:
        if client.setup_status().get("status") is True:
            return False
        client.setup(username, password)
        return True


def newapi_credentials(url: str, password: str, cache: CredentialCache, *,
                       username: str = ROOT_USER,
                       transport: httpx.BaseTransport | None = None) -> AdminCredentials:
    """A working access token and user id for a New-API gateway (see the module text)."""
    cached = cache.load()
    if cached is not None and _still_valid(url, cached, transport):
        return cached
    ensure_setup(url, password, username=username, transport=transport)
    try:
        creds = login_for_access(url, username, password, flavor=fl.NEWAPI,
                                 transport=transport)
    except OneAPIAuthError as exc:
        raise OneAPIAuthError(f"{exc} (New-API's root password is the inventory's "
                              "oneapi.root_password, set by the first-run setup)") from None
    cache.save(creds)
    return creds


def admin_credentials(url: str, flavor: str, *, access_token: str | None, password: str,
                      cache: CredentialCache,
                      transport: httpx.BaseTransport | None = None) -> AdminCredentials:
    """The credentials the admin client uses for this flavour."""
    if fl.from_model(flavor) == fl.NEWAPI:
        return newapi_credentials(url, password, cache, transport=transport)
    if not access_token:
        raise OneAPIError("no OneAPI access token given (oneapi.root_access_token)")
    return AdminCredentials(access_token, 1)
