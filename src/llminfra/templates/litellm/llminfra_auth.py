"""Written by llminfra: who may call this LiteLLM, which keeps no database.

LiteLLM's own client keys ("virtual keys") live in its database. Config-only LiteLLM calls
this function for every request instead (general_settings.custom_auth). It knows the keys only
by their SHA-256 (LLMINFRA_CLIENT_KEYS, from the 0600 env file) and checks expiry and client
networks itself; the model list it returns is enforced by LiteLLM. The master key stays admin.
Anything else is a 401, a missing key included (LiteLLM alone answers that with a 500).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import time


def load_keys(environ: dict[str, str]) -> tuple[dict[str, dict], str | None]:
    keys = json.loads(environ.get("LLMINFRA_CLIENT_KEYS") or "{}")
    master = environ.get("LITELLM_MASTER_KEY") or ""
    return keys, (hashlib.sha256(master.encode()).hexdigest() if master else None)


def _in_subnets(address: str, subnets: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in subnets)


def verdict(api_key: str, client_ip: str, now: float, keys: dict[str, dict],
            master_digest: str | None) -> tuple[str, dict | None]:
    """("master", None), ("client", entry) or ("denied", {"reason": ...}); pure, for tests."""
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()
    if master_digest and hmac.compare_digest(digest, master_digest):
        return "master", None
    entry = keys.get(digest)
    if not api_key or entry is None:
        return "denied", {"reason": "invalid API key"}
    if entry.get("expires") is not None and now >= entry["expires"]:
        return "denied", {"reason": "API key expired"}
    if entry.get("subnets") and not _in_subnets(client_ip, entry["subnets"]):
        return "denied", {"reason": "API key not allowed from this address"}
    return "client", {**entry, "digest": digest}


_KEYS, _MASTER = load_keys(dict(os.environ))


async def user_api_key_auth(request, api_key: str):
    from litellm.proxy._types import LitellmUserRoles, ProxyException, UserAPIKeyAuth

    # Nginx at the edge replaces X-Real-IP with the peer address; LiteLLM itself listens on
    # the gateway's loopback only.
    client_ip = request.headers.get("x-real-ip") or (request.client.host if request.client else "")
    kind, entry = verdict(api_key, client_ip, time.time(), _KEYS, _MASTER)
    if kind == "master":
        return UserAPIKeyAuth(api_key="llminfra-master-key", user_id="llminfra-admin",
                              user_role=LitellmUserRoles.PROXY_ADMIN)
    if kind == "client" and entry is not None:
        return UserAPIKeyAuth(api_key=entry["digest"], key_alias=entry["name"],
                              key_name=entry["name"], models=entry["models"])
    reason = entry["reason"] if entry else "invalid API key"
    raise ProxyException(message=reason, type="auth_error", param="api_key", code=401)
