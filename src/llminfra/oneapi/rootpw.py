"""Root's password, verified rather than assumed.

Only a definite answer counts: the new password logs in AND ``123456`` is refused. A 429 (the
login route allows 20 calls per 20 minutes per address), a dropped connection or an answer of
an unexpected shape is *unknown*, which is never recorded as done: the next apply checks again.
Logins run on their own short-lived HTTP client, so no session cookie ever reaches the admin
client (which authenticates with the access token only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

DEFAULT_PASSWORD = "123456"
USERNAME = "root"


class PasswordSetter(Protocol):
    base_url: str

    def update_self(self, **fields: Any) -> None: ...


@dataclass(frozen=True)
class Login:
    """Outcome of one login attempt: ``works`` is True/False when definite, else None."""

    works: bool | None
    detail: str = ""


def try_login(base_url: str, password: str, *, timeout: float = 10.0,
              transport: httpx.BaseTransport | None = None) -> Login:
    try:
        with httpx.Client(base_url=base_url, timeout=timeout, trust_env=False,
                          transport=transport) as http:
            resp = http.post("/api/user/login", json={"username": USERNAME, "password": password})
    except httpx.HTTPError as exc:
        return Login(None, f"login request failed ({exc.__class__.__name__})")
    if resp.status_code != 200:
        return Login(None, f"login answered HTTP {resp.status_code}")
    try:
        body = resp.json()
    except ValueError:
        return Login(None, "login answered something that is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        return Login(None, "login answered an unexpected body")
    if body["success"]:
        data = body.get("data")
        if isinstance(data, dict) and data.get("username") == USERNAME:
            return Login(True)
        return Login(None, "login succeeded but did not name the root user")
    message = body.get("message")
    if isinstance(message, str) and message:
        return Login(False)
    return Login(None, "login refused without a reason")


@dataclass(frozen=True)
class RootCheck:
    verified: bool
    rotated: bool = False
    detail: str = ""


def _check(base_url: str, password: str, transport: httpx.BaseTransport | None
           ) -> tuple[Login, Login]:
    new = try_login(base_url, password, transport=transport)
    if new.works is None:  # no point spending a second login while the first is unknown
        return new, Login(None, "not tried")
    return new, try_login(base_url, DEFAULT_PASSWORD, transport=transport)


def ensure_root_password(client: PasswordSetter, password: str, *,
                         transport: httpx.BaseTransport | None = None) -> RootCheck:
    """Verify root's password; set it (with the access token, no login) when it is not in
    force, then verify again. At most 4 logins."""
    new, default = _check(client.base_url, password, transport)
    if new.works is True and default.works is False:
        return RootCheck(True)
    if new.works is None or default.works is None:
        return RootCheck(False, detail=new.detail or default.detail)
    client.update_self(password=password)
    new, default = _check(client.base_url, password, transport)
    if new.works is True and default.works is False:
        return RootCheck(True, rotated=True)
    detail = new.detail or default.detail or (
        "the new password still does not log in" if not new.works else "123456 still logs in")
    return RootCheck(False, rotated=True, detail=detail)
