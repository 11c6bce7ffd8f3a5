"""Small helpers shared by the emulator's route handlers."""
import re

ITEMS_PER_PAGE = 10

# A small slice of OneAPI's built-in model catalogue (names outside it are "custom").
CATALOGUE = {
    "gpt-3.5-turbo": "openai", "gpt-4": "openai", "gpt-4o": "openai", "gpt-4o-mini": "openai",
    "text-embedding-3-small": "openai", "claude-3-5-sonnet-20240620": "anthropic",
    "gemini-1.5-pro": "google", "deepseek-chat": "deepseek",
}


def ok(data=None, **extra):
    body = {"success": True, "message": ""}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return 200, body


def err(message, status=200):
    return status, {"success": False, "message": message}


def atoi(text):
    """strconv.Atoi with the error ignored, as OneAPI does for ids and pages."""
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def page(ctx, rows):
    p = max(atoi(ctx.arg("p", "0")), 0)
    return rows[p * ITEMS_PER_PAGE:(p + 1) * ITEMS_PER_PAGE]


def like_prefix(keyword):
    """Regex for SQL ``LIKE keyword%`` (``%``/``_`` live, ASCII case-insensitive)."""
    parts = []
    for ch in keyword + "%":
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def public(row):
    return {k: v for k, v in row.items() if not k.startswith("_")}


def model_object(name):
    return {"id": name, "object": "model", "created": 1626777600,
            "owned_by": CATALOGUE.get(name, "custom"), "permission": [], "root": name,
            "parent": None}
