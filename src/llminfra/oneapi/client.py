"""HTTP client for the admin API of OneAPI and New-API (docs/gateway-contract.md).

Authenticates with an access token on every call (no login per call; New-API also gets the
``New-Api-User`` header, §10.2), turns ``success:false`` into :class:`OneAPIRequestError`,
calls the exact route forms (collections end in ``/``), pages the flavour's way (§4.1, §10.3)
and retries only idempotent reads. Callers see OneAPI's field names whatever the flavour
(:mod:`.flavor` translates).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from . import flavor as fl
from .errors import (
    OneAPIAuthError,
    OneAPIConnectionLost,
    OneAPIError,
    OneAPIRequestError,
    OneAPIUnreachable,
)

JsonObj = dict[str, Any]
MAX_PAGES = 10000
KEYS_PER_CALL = 100  # New-API's batch key read refuses more ids (§10.6)
# OneAPI and New-API report bad or insufficient credentials with HTTP 200 and this prefix (§3.3)
DENIED_PREFIX = "无权进行此操作"
BANNED = "用户已被封禁"
SEARCH_WINDOW = 60.0  # New-API's token search limit counts per minute
SETUP_DONE = "系统已经初始化完成"  # New-API: POST /api/setup after the first one (§10.1)


@dataclass(frozen=True)
class AdminCredentials:
    """What authenticates admin calls: New-API also needs the user's numeric id."""

    access_token: str
    user_id: int = 1


class OneAPIClient:
    """Admin API client. Use as a context manager or call :meth:`close`."""

    def __init__(self, base_url: str, access_token: str, *, flavor: str = fl.ONEAPI,
                 user_id: int = 1, timeout: float = 10.0, retries: int = 2,
                 backoff: float = 0.2, transport: httpx.BaseTransport | None = None) -> None:
        if not access_token:
            raise OneAPIAuthError("no OneAPI access token given (set INITIAL_ROOT_ACCESS_TOKEN)")
        self.base_url = base_url.rstrip("/")
        self.flavor = fl.from_model(flavor)
        self.user_id = int(user_id)
        self.retries, self.backoff = retries, backoff
        self.sent = 0  # requests put on the wire, retries included
        self._search_blocked_until = 0.0
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if self.flavor == fl.NEWAPI:
            headers["New-Api-User"] = str(self.user_id)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  follow_redirects=False, transport=transport, trust_env=False)

    @classmethod
    def from_env(cls, base_url: str, env: Mapping[str, str] | None = None,
                 **kwargs: Any) -> OneAPIClient:
        """Client using ``INITIAL_ROOT_ACCESS_TOKEN`` (the value given to the gateway)."""
        env = os.environ if env is None else env
        return cls(base_url, env.get("INITIAL_ROOT_ACCESS_TOKEN", ""), **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, body: Any,
              timeout: float | None) -> httpx.Response:
        self.sent += 1
        try:
            if timeout is None:
                return self._http.request(method, path, params=params, json=body)
            return self._http.request(method, path, params=params, json=body, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise OneAPIUnreachable(f"cannot reach OneAPI at {self.base_url}: {exc}") from None
        except httpx.TransportError as exc:
            raise OneAPIConnectionLost(
                f"connection to OneAPI lost during {method} {path} ({exc.__class__.__name__}); "
                "a write may or may not have been applied") from None

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: Any = None, read: bool = False, check: bool = True,
                timeout: float | None = None, wait_on_limit: bool = True) -> JsonObj:
        """One API call; returns the decoded JSON body.

        ``read=True`` marks an idempotent read: it is retried (bounded) on transport
        errors, 429 and 5xx (``wait_on_limit=False``: a 429 is raised at once, for callers
        with a cheaper way round the limit). ``check=False`` returns ``success:false``
        envelopes as-is.
        """
        attempts = 1 + (self.retries if read else 0)
        for attempt in range(attempts):
            try:
                resp = self._send(method, path, params, body, timeout)
            except (OneAPIConnectionLost, OneAPIUnreachable):
                if attempt + 1 == attempts:
                    raise
            else:
                limited = resp.status_code == 429 and wait_on_limit
                if not (limited or resp.status_code >= 500) or attempt + 1 == attempts:
                    return self._decode(method, path, resp, check)
            time.sleep(self.backoff * (2 ** attempt))
        raise AssertionError("unreachable")

    def _decode(self, method: str, path: str, resp: httpx.Response, check: bool) -> JsonObj:
        try:
            data = resp.json()
        except ValueError:
            data = None
        message = str(data.get("message") or "") if isinstance(data, dict) else ""
        if resp.status_code in (401, 403):
            raise OneAPIAuthError(f"OneAPI refused the access token ({method} {path}): "
                                  f"HTTP {resp.status_code} {message}")
        if resp.status_code != 200 or not isinstance(data, dict):
            raise OneAPIRequestError(method, path, message or resp.text[:200], resp.status_code)
        if check and data.get("success") is False:
            if message.startswith(DENIED_PREFIX) or message == BANNED:
                raise OneAPIAuthError(f"OneAPI refused the access token ({method} {path}): "
                                      f"{message}")
            raise OneAPIRequestError(method, path, message)
        return data

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).get("data")

    def _all_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                   wait_on_limit: bool = True) -> list[JsonObj]:
        """Every item of a paged collection: OneAPI 0-based pages of 10 until a short page,
        New-API 1-based pages until ``total`` items (or a short page) are in (§4.1, §10.3)."""
        items: list[JsonObj] = []
        first, size = fl.FIRST_PAGE[self.flavor], fl.PAGE_SIZE[self.flavor]
        for page in range(first, first + MAX_PAGES):
            data = self._data("GET", path, params=fl.page_query(self.flavor, page, params),
                              read=True, wait_on_limit=wait_on_limit)
            got, total, paged = fl.page_items(data)
            items.extend(got)
            if not got or (not paged and self.flavor == fl.NEWAPI):
                return items  # New-API answers a bare array only when it does not page
            done = len(items) >= total if total is not None else len(got) < size
            if done:
                return items
        raise OneAPIError(f"{path} returned more than {MAX_PAGES} pages")

    def _search(self, path: str, keyword: str) -> list[JsonObj]:
        params = {"keyword": fl.prefix_keyword(keyword, self.flavor)}
        if self.flavor == fl.NEWAPI:
            return self._all_pages(path, params)
        return fl.page_items(self._data("GET", path, params=params, read=True))[0]

    def _own(self, tokens: Iterable[JsonObj]) -> list[JsonObj]:
        """New-API builds that let root see every user's tokens: keep the caller's (§10.6)."""
        if self.flavor == fl.ONEAPI:
            return list(tokens)
        return [t for t in tokens if t.get("user_id") in (None, self.user_id)]

    # ------------------------------------------------------------------ misc / users
    def status(self) -> JsonObj:
        """``GET /api/status`` data (no auth needed)."""
        data: JsonObj = self._data("GET", "/api/status", read=True)
        return data

    def get_self(self) -> JsonObj:
        data: JsonObj = self._data("GET", "/api/user/self", read=True)
        return data

    def update_self(self, **fields: Any) -> None:
        """``PUT /api/user/self``; e.g. ``update_self(password=...)`` (8..20 chars)."""
        self.request("PUT", "/api/user/self", body=fields)

    def rotate_access_token(self) -> str:
        """Generate a new access token (invalidates the old one) and switch to it."""
        token = str(self._data("GET", "/api/user/token"))
        self._http.headers["Authorization"] = f"Bearer {token}"
        return token

    def password_works(self, username: str, password: str) -> bool:
        """True if ``username``/``password`` can log in (one rate-limited login call)."""
        resp = self._send("POST", "/api/user/login", None,
                          {"username": username, "password": password}, None)
        self._http.cookies.clear()  # keep authenticating with the access token only
        data = self._decode("POST", "/api/user/login", resp, check=False)
        return data.get("success") is True

    def get_options(self) -> dict[str, str]:
        return {o["key"]: o["value"] for o in self._data("GET", "/api/option/", read=True)}

    def set_option(self, key: str, value: object) -> None:
        self.request("PUT", "/api/option/", body={"key": key, "value": str(value)})

    def list_groups(self) -> list[str]:
        return sorted(self._data("GET", "/api/group/", read=True) or [])

    # ------------------------------------------------------------------ channels
    def list_channels(self) -> list[JsonObj]:
        """All channels (``key`` is blank in listings)."""
        return self._all_pages("/api/channel/")

    def search_channels(self, keyword: str) -> list[JsonObj]:
        """At least every channel whose name starts with ``keyword`` (filter exact names)."""
        return self._search("/api/channel/search", keyword)

    def get_channel(self, channel_id: int) -> JsonObj:
        data: JsonObj = self._data("GET", f"/api/channel/{int(channel_id)}", read=True)
        return data

    def create_channel(self, fields: Mapping[str, Any]) -> None:
        """Create one channel; neither flavour returns its id (find it by name)."""
        if "\n" in str(fields.get("key", "")):
            raise ValueError("a channel key containing a newline would fan out into several")
        self.request("POST", "/api/channel/", body=fl.channel_create_body(fields, self.flavor))

    def update_channel(self, fields: Mapping[str, Any]) -> JsonObj:
        """Partial update keyed by ``fields['id']``; returns the stored channel (OneAPI
        includes its key, New-API blanks it)."""
        data: JsonObj = self._data("PUT", "/api/channel/", body=dict(fields)) or {}
        return data

    def delete_channel(self, channel_id: int) -> None:
        self.request("DELETE", f"/api/channel/{int(channel_id)}")

    def test_channel(self, channel_id: int, model: str | None = None,
                     timeout: float = 60.0) -> JsonObj:
        """Run the gateway's channel test; returns ``{"success", "message", "time", ...}``."""
        params = {"model": model} if model else None
        return self.request("GET", f"/api/channel/test/{int(channel_id)}", params=params,
                            check=False, timeout=timeout)

    # ------------------------------------------------------------------ tokens
    def list_tokens(self) -> list[JsonObj]:
        """The caller's tokens. OneAPI shows full keys (without ``sk-``); newer New-API builds
        mask them (``abcd**********wxyz``, see :func:`.flavor.is_masked` and
        :meth:`token_keys`)."""
        rows = self._own(self._all_pages("/api/token/"))
        return [fl.token_from_wire(t, self.flavor) for t in rows]

    def search_tokens(self, keyword: str) -> list[JsonObj]:
        """At least every own token whose name starts with ``keyword`` (filter exact names).
        While New-API's search limit is reached (§10.6) the listing answers instead."""
        found = self._limited_search(keyword)
        if found is None:
            return [t for t in self.list_tokens() if str(t.get("name", "")).startswith(keyword)]
        return found

    def _limited_search(self, keyword: str, exact: bool = False) -> list[JsonObj] | None:
        """The token search (``exact``: the name as given, which newer New-API builds match
        exactly), or None when New-API's per-minute search limit is reached: nothing waits,
        callers read the unlimited listing for the rest of that minute."""
        if self.flavor == fl.ONEAPI:
            found = self._search("/api/token/search", keyword)
        elif time.monotonic() < self._search_blocked_until:
            return None
        else:
            params = {"keyword": keyword if exact else fl.prefix_keyword(keyword, self.flavor)}
            try:
                found = self._all_pages("/api/token/search", params, wait_on_limit=False)
            except OneAPIRequestError as exc:
                if exc.status != 429:
                    raise
                self._search_blocked_until = time.monotonic() + SEARCH_WINDOW
                return None
        return [fl.token_from_wire(t, self.flavor) for t in self._own(found)]

    def get_token(self, token_id: int) -> JsonObj:
        data = self._data("GET", f"/api/token/{int(token_id)}", read=True)
        return fl.token_from_wire(data, self.flavor)

    def token_keys(self, token_ids: Iterable[int]) -> dict[int, str]:
        """Plain keys (without ``sk-``) of own tokens by id.

        OneAPI lists keys in full. New-API masks them and reveals them only through its key
        endpoints, which share the login's rate limit (20 per 20 minutes per IP, §10.6): one
        batch call per 100 ids, or one call per id on builds without the batch route.
        """
        ids = sorted({int(i) for i in token_ids})
        if not ids:
            return {}
        if self.flavor == fl.ONEAPI:
            return {t["id"]: t["key"] for t in self.list_tokens() if t["id"] in ids}
        keys: dict[int, str] = {}
        for start in range(0, len(ids), KEYS_PER_CALL):
            chunk = ids[start:start + KEYS_PER_CALL]
            try:
                found = self._data("POST", "/api/token/batch/keys", body={"ids": chunk})
            except OneAPIRequestError as exc:
                if exc.status != 404:
                    raise
                found = {"keys": {i: self._data("POST", f"/api/token/{i}/key")["key"]
                                  for i in chunk}}
            for tid, key in ((found or {}).get("keys") or {}).items():
                if key and not fl.is_masked(key):
                    keys[int(tid)] = fl.bare_key(str(key))
        return keys

    def create_token(self, fields: Mapping[str, Any], *, read_key: bool = True
                     ) -> JsonObj | None:
        """Create; returns the new token with its key.

        OneAPI answers with the token. New-API answers with nothing: the token is found
        again by its exact name (newest id) and its key read through the key endpoint
        (``read_key=False`` leaves it as read, for a caller reading many keys in one batch:
        that endpoint allows 20 calls per 20 minutes).
        ``None`` means it was created but cannot be found (re-run to capture it).
        """
        data = self._data("POST", "/api/token/", body=fl.token_to_wire(fields, self.flavor))
        if data:
            return fl.token_from_wire(data, self.flavor)
        if self.flavor == fl.ONEAPI:
            return None
        found = self.find_tokens_named(str(fields.get("name", "")))
        if not found:
            return None
        token = found[0]
        if read_key and (not token.get("key") or fl.is_masked(token["key"])):
            token["key"] = self.token_keys([token["id"]]).get(token["id"], "")
        return token

    def find_tokens_named(self, name: str) -> list[JsonObj]:
        """Own tokens named exactly ``name``, newest first. New-API limits token searches to
        10 a minute per user (§10.6): once it answers 429 the (unlimited) listing is read
        instead, without waiting, until the minute is over."""
        rows = self._limited_search(name, exact=True)
        if rows is None:
            rows = self.list_tokens()
        return sorted((t for t in rows if t.get("name") == name), key=lambda t: -t["id"])

    def update_token(self, fields: Mapping[str, Any]) -> JsonObj:
        """Full overwrite: send every field (name, expired_time, remain_quota,
        unlimited_quota, models, subnet) or it is zeroed."""
        data = self._data("PUT", "/api/token/", body=fl.token_to_wire(fields, self.flavor))
        return fl.token_from_wire(data or {}, self.flavor)

    def set_token_status(self, token_id: int, status: int) -> JsonObj:
        """``PUT /api/token/?status_only=true``: 1 enabled, 2 disabled."""
        data = self._data("PUT", "/api/token/", params={"status_only": "true"},
                          body={"id": int(token_id), "status": int(status)})
        return fl.token_from_wire(data or {}, self.flavor)

    def delete_token(self, token_id: int) -> None:
        self.request("DELETE", f"/api/token/{int(token_id)}")

    # ------------------------------------------------------------------ New-API setup
    def setup_status(self) -> JsonObj:
        """New-API ``GET /api/setup`` data (``status`` false until initialised)."""
        data: JsonObj = self._data("GET", "/api/setup", read=True) or {}
        return data

    def setup(self, username: str, password: str) -> None:
        """New-API first-run: create the root user (``POST /api/setup``)."""
        self.request("POST", "/api/setup", body=setup_body(username, password))


def setup_body(username: str, password: str) -> JsonObj:
    return {"username": username, "password": password, "confirmPassword": password,
            "SelfUseModeEnabled": False, "DemoSiteEnabled": False}


def _envelope(resp: httpx.Response) -> JsonObj:
    try:
        data = resp.json()
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {"success": False,
                                                "message": f"HTTP {resp.status_code}"}


def login_for_access(base_url: str, username: str, password: str, *,
                     flavor: str = fl.ONEAPI, timeout: float = 10.0,
                     transport: httpx.BaseTransport | None = None) -> AdminCredentials:
    """Log in once with a session cookie and generate (rotate) an access token.

    For gateways without ``INITIAL_ROOT_ACCESS_TOKEN`` (New-API). Store the result: each
    call invalidates the previous token and spends one of the 20 logins per 20 minutes.
    """
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                      trust_env=False) as http:
        try:
            data = _envelope(http.post("/api/user/login",
                                       json={"username": username, "password": password}))
            if not data.get("success"):
                raise OneAPIAuthError(f"login as {username} failed: "
                                      f"{data.get('message') or 'refused'}")
            user_id = int((data.get("data") or {}).get("id") or 0)
            if user_id <= 0:
                raise OneAPIAuthError(f"login as {username} answered without a user id")
            headers = {"New-Api-User": str(user_id)} if fl.from_model(flavor) == fl.NEWAPI \
                else {}
            data = _envelope(http.get("/api/user/token", headers=headers))
        except httpx.TransportError as exc:
            raise OneAPIUnreachable(f"cannot reach the gateway at {base_url}: {exc}") from None
        if not data.get("success") or not data.get("data"):
            raise OneAPIAuthError(f"access token generation failed: {data.get('message')}")
        return AdminCredentials(str(data["data"]), user_id)
