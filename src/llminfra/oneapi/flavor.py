"""Differences between OneAPI and New-API that the client hides (contract section 10)."""

ONEAPI, NEWAPI = "oneapi", "newapi"
FLAVORS = (ONEAPI, NEWAPI)

# Vendor kind -> channel type id per flavour (contract sections 6 and 10.5).
CHANNEL_TYPES = {
    ONEAPI: {"openai": 1, "azure": 3, "custom": 8, "anthropic": 14, "gemini": 24,
             "ollama": 30, "deepseek": 36, "openai-compatible": 50},
    NEWAPI: {"openai": 1, "azure": 3, "custom": 8, "anthropic": 14, "gemini": 24,
             "ollama": 4, "deepseek": 43, "openai-compatible": 1},
}


def check_flavor(flavor):
    if flavor not in FLAVORS:
        raise ValueError(f"unknown gateway flavor {flavor!r}; expected one of {FLAVORS}")
    return flavor


def channel_type(kind, flavor=ONEAPI):
    """Numeric channel type for a vendor kind such as ``"openai-compatible"``."""
    try:
        return CHANNEL_TYPES[check_flavor(flavor)][kind]
    except KeyError:
        raise ValueError(f"no {flavor} channel type for {kind!r}") from None


def compatible_base_url(url, flavor=ONEAPI):
    """Base URL for an OpenAI-compatible server given as ``http://host:port[/v1]``.

    OneAPI type 50 wants the version in the base URL; New-API type 1 appends ``/v1``
    itself, so it must be absent there.
    """
    root = url.rstrip("/")
    root = root[:-3] if root.endswith("/v1") else root
    return root + "/v1" if flavor == ONEAPI else root


def token_to_wire(fields, flavor):
    """OneAPI token fields -> the flavour's request body."""
    if flavor == ONEAPI:
        return dict(fields)
    body = {k: v for k, v in fields.items() if k not in ("models", "subnet")}
    models = fields.get("models") or ""
    body.update(model_limits_enabled=bool(models), model_limits=models,
                allow_ips="\n".join(filter(None, (fields.get("subnet") or "").split(","))))
    return body


def token_from_wire(token, flavor):
    """The flavour's token object -> OneAPI field names (``models``, ``subnet``)."""
    if flavor == ONEAPI:
        return token
    out = dict(token)
    out["models"] = token.get("model_limits", "") if token.get("model_limits_enabled") else ""
    out["subnet"] = ",".join(filter(None, (token.get("allow_ips") or "").split("\n")))
    return out


def channel_create_body(fields, flavor):
    if flavor == ONEAPI:
        return dict(fields)
    return {"mode": "single", "channel": dict(fields)}
