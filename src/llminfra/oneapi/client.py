"""HTTP client for OneAPI's admin API (contract: /work/shared/oneapi-api.md).

Authenticates with the root *access token* on every call (no login per call),
turns ``success:false`` into :class:`OneAPIRequestError`, calls the exact route
forms (collections end in ``/``), pages 0-based until a short page, and retries
only idempotent reads. ``flavor="newapi"`` applies the New-API differences
(``New-Api-User`` header, 1-based ``items``/``total`` pages, wrapped channel create,
token field names).
"""
import os
import time

import httpx

from . import flavor as fl
from .errors import (OneAPIAuthError, OneAPIConnectionLost, OneAPIError, OneAPIRequestError,
                     OneAPIUnreachable)

PAGE_SIZE = 10
MAX_PAGES = 10000
DENIED_PREFIX = "无权进行此操作"  # OneAPI reports bad/insufficient credentials with HTTP 200


class OneAPIClient:
    """Admin API client. Use as a context manager or call :meth:`close`."""

    def __init__(self, base_url, access_token, *, flavor=fl.ONEAPI, user_id=1, timeout=10.0,
                 retries=2, backoff=0.2, transport=None):
        if not access_token:
            raise OneAPIAuthError("no OneAPI access token given (set INITIAL_ROOT_ACCESS_TOKEN)")
        self.base_url = base_url.rstrip("/")
        self.flavor = fl.check_flavor(flavor)
        self.retries, self.backoff = retries, backoff
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if self.flavor == fl.NEWAPI:
            headers["New-Api-User"] = str(user_id)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  follow_redirects=False, transport=transport, trust_env=False)

    @classmethod
    def from_env(cls, base_url, env=None, **kwargs):
        """Client using ``INITIAL_ROOT_ACCESS_TOKEN`` (the value given to the gateway)."""
        env = os.environ if env is None else env
        return cls(base_url, env.get("INITIAL_ROOT_ACCESS_TOKEN", ""), **kwargs)

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ transport
    def _send(self, method, path, params, body, timeout):
        kwargs = {"params": params, "json": body}
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            return self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise OneAPIUnreachable(f"cannot reach OneAPI at {self.base_url}: {exc}") from None
        except httpx.TransportError as exc:
            raise OneAPIConnectionLost(
                f"connection to OneAPI lost during {method} {path} ({exc.__class__.__name__}); "
                "a write may or may not have been applied") from None

    def request(self, method, path, *, params=None, body=None, read=False, check=True,
                timeout=None):
        """One API call; returns the decoded JSON body.

        ``read=True`` marks an idempotent read: it is retried (bounded) on transport
        errors, 429 and 5xx. ``check=False`` returns ``success:false`` envelopes as-is.
        """
        attempts = 1 + (self.retries if read else 0)
        for attempt in range(attempts):
            try:
                resp = self._send(method, path, params, body, timeout)
            except (OneAPIConnectionLost, OneAPIUnreachable):
                if attempt + 1 == attempts:
                    raise
            else:
                if not (resp.status_code == 429 or resp.status_code >= 500) \
                        or attempt + 1 == attempts:
                    return self._decode(method, path, resp, check)
            time.sleep(self.backoff * (2 ** attempt))
        raise AssertionError("unreachable")

    def _decode(self, method, path, resp, check):
        try:
            data = resp.json()
        except ValueError:
            data = None
        message = data.get("message", "") if isinstance(data, dict) else ""
        if resp.status_code in (401, 403):
            raise OneAPIAuthError(f"OneAPI refused the access token ({method} {path}): "
                                  f"HTTP {resp.status_code} {message}")
        if resp.status_code != 200 or not isinstance(data, dict):
            raise OneAPIRequestError(method, path, message or resp.text[:200], resp.status_code)
        if check and data.get("success") is False:
            if message.startswith(DENIED_PREFIX) or message == "用户已被封禁":
                raise OneAPIAuthError(f"OneAPI refused the access token ({method} {path}): "
                                      f"{message}")
            raise OneAPIRequestError(method, path, message)
        return data

    def _data(self, method, path, **kwargs):
        return self.request(method, path, **kwargs).get("data")

    def _all_pages(self, path, params=None):
        """Every item of a paged collection (OneAPI 0-based, New-API 1-based ``items``)."""
        items = []
        first = 1 if self.flavor == fl.NEWAPI else 0
        for p in range(first, first + MAX_PAGES):
            query = dict(params or {}, p=p)
            if self.flavor == fl.NEWAPI:
                query["page_size"] = PAGE_SIZE
            data = self._data("GET", path, params=query, read=True)
            page = (data or {}).get("items") or [] if isinstance(data, dict) else data or []
            items.extend(page)
            if len(page) < PAGE_SIZE:
                return items
        raise OneAPIError(f"{path} returned more than {MAX_PAGES} pages")

    def _search(self, path, keyword):
        if self.flavor == fl.NEWAPI:
            return self._all_pages(path, {"keyword": keyword})
        return self._data("GET", path, params={"keyword": keyword}, read=True) or []

    # ------------------------------------------------------------------ misc / users
    def status(self):
        """``GET /api/status`` data (no auth needed)."""
        return self._data("GET", "/api/status", read=True)

    def get_self(self):
        return self._data("GET", "/api/user/self", read=True)

    def update_self(self, **fields):
        """``PUT /api/user/self``; e.g. ``update_self(password=...)`` (8..20 chars)."""
        self.request("PUT", "/api/user/self", body=fields)

    def rotate_access_token(self):
        """Generate a new access token (invalidates the old one) and switch to it."""
        token = self._data("GET", "/api/user/token")
        self._http.headers["Authorization"] = f"Bearer {token}"
        return token

    def password_works(self, username, password):
        """True if ``username``/``password`` can log in (one rate-limited login call)."""
        resp = self._send("POST", "/api/user/login", None,
                          {"username": username, "password": password}, None)
        self._http.cookies.clear()  # keep authenticating with the access token only
        data = self._decode("POST", "/api/user/login", resp, check=False)
        return data.get("success") is True

    def get_options(self):
        return {o["key"]: o["value"] for o in self._data("GET", "/api/option/", read=True)}

    def set_option(self, key, value):
        self.request("PUT", "/api/option/", body={"key": key, "value": str(value)})

    def list_groups(self):
        return sorted(self._data("GET", "/api/group/", read=True) or [])

    # ------------------------------------------------------------------ channels
    def list_channels(self):
        """All channels (``key`` is blank in listings)."""
        return self._all_pages("/api/channel/")

    def search_channels(self, keyword):
        """Channels whose name starts with ``keyword`` (or whose id equals it)."""
        return self._search("/api/channel/search", keyword)

    def get_channel(self, channel_id):
        return self._data("GET", f"/api/channel/{int(channel_id)}", read=True)

    def create_channel(self, fields):
        """Create; OneAPI returns no id (find it by name afterwards)."""
        if "\n" in fields.get("key", ""):
            raise ValueError("a channel key containing a newline would fan out into several")
        self.request("POST", "/api/channel/", body=fl.channel_create_body(fields, self.flavor))

    def update_channel(self, fields):
        """Partial update keyed by ``fields['id']``; returns the stored channel."""
        return self._data("PUT", "/api/channel/", body=fields)

    def delete_channel(self, channel_id):
        self.request("DELETE", f"/api/channel/{int(channel_id)}")

    def test_channel(self, channel_id, model=None, timeout=60.0):
        """Run OneAPI's channel test; returns ``{"success", "message", "time", ...}``."""
        params = {"model": model} if model else None
        return self.request("GET", f"/api/channel/test/{int(channel_id)}", params=params,
                            check=False, timeout=timeout)

    # ------------------------------------------------------------------ tokens
    def list_tokens(self):
        """The caller's tokens, with full keys (without ``sk-``)."""
        return [fl.token_from_wire(t, self.flavor) for t in self._all_pages("/api/token/")]

    def search_tokens(self, keyword):
        found = self._search("/api/token/search", keyword)
        return [fl.token_from_wire(t, self.flavor) for t in found]

    def get_token(self, token_id):
        data = self._data("GET", f"/api/token/{int(token_id)}", read=True)
        return fl.token_from_wire(data, self.flavor)

    def create_token(self, fields):
        """Create; OneAPI returns the token with its generated key (New-API: ``None``)."""
        data = self._data("POST", "/api/token/", body=fl.token_to_wire(fields, self.flavor))
        return fl.token_from_wire(data, self.flavor) if data else None

    def update_token(self, fields):
        """Full overwrite: send every field (name, expired_time, remain_quota,
        unlimited_quota, models, subnet) or it is zeroed."""
        data = self._data("PUT", "/api/token/", body=fl.token_to_wire(fields, self.flavor))
        return fl.token_from_wire(data, self.flavor)

    def set_token_status(self, token_id, status):
        """``PUT /api/token/?status_only=true``: 1 enabled, 2 disabled."""
        return self._data("PUT", "/api/token/", params={"status_only": "true"},
                          body={"id": int(token_id), "status": int(status)})

    def delete_token(self, token_id):
        self.request("DELETE", f"/api/token/{int(token_id)}")

    # ------------------------------------------------------------------ New-API setup
    def setup_status(self):
        """New-API ``GET /api/setup`` data (``status`` false until initialised)."""
        return self._data("GET", "/api/setup", read=True)

    def setup(self, username, password):
        """New-API first-run: create the root user (``POST /api/setup``)."""
        self.request("POST", "/api/setup", body={
            "username": username, "password": password, "confirmPassword": password,
            "SelfUseModeEnabled": False, "DemoSiteEnabled": False})


def access_token_by_login(base_url, username, password, *, flavor=fl.ONEAPI, timeout=10.0,
                          transport=None):
    """Log in once with a session cookie and generate (rotate) an access token.

    For gateways without ``INITIAL_ROOT_ACCESS_TOKEN`` (e.g. New-API). Store the
    returned value: each call invalidates the previous token.
    """
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                      trust_env=False) as http:
        resp = http.post("/api/user/login", json={"username": username, "password": password})
        data = resp.json() if resp.status_code == 200 else {}
        if not data.get("success"):
            raise OneAPIAuthError(f"login as {username} failed: "
                                  f"{data.get('message') or f'HTTP {resp.status_code}'}")
        headers = {}
        if flavor == fl.NEWAPI:
            headers["New-Api-User"] = str(data["data"]["id"])
        resp = http.get("/api/user/token", headers=headers)
        data = resp.json() if resp.status_code == 200 else {}
        if not data.get("success"):
            raise OneAPIAuthError(f"access token generation failed: {data.get('message')}")
        return data["data"]
