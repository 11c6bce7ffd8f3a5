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


def like(pattern, underscore=True):
    """Regex for SQL ``LIKE pattern`` (``%`` live, ``_`` live unless escaped away,
    ASCII case-insensitive); use with ``fullmatch``."""
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_" and underscore:
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def like_prefix(keyword):
    """Regex for SQL ``LIKE keyword%`` (``%``/``_`` live, ASCII case-insensitive)."""
    return like(keyword + "%")


def page_size(ctx, default=ITEMS_PER_PAGE, cap=100):
    """New-API's page size: ``page_size`` (aliases ``ps``, ``size``), clamped to ``cap``."""
    for name in ("page_size", "ps", "size"):
        size = atoi(ctx.arg(name))
        if size > 0:
            return min(size, cap)
    return default


def page_object(ctx, rows, default=ITEMS_PER_PAGE, **extra):
    """New-API's paged answer: 1-based ``p``, ``{items, total, page, page_size}``."""
    p, size = max(atoi(ctx.arg("p", "1")), 1), page_size(ctx, default)
    data = {"items": rows[(p - 1) * size:p * size], "total": len(rows), "page": p,
            "page_size": size}
    data.update(extra)
    return data


def public(row):
    return {k: v for k, v in row.items() if not k.startswith("_")}


def model_object(name):
    return {"id": name, "object": "model", "created": 1626777600,
            "owned_by": CATALOGUE.get(name, "custom"), "permission": [], "root": name,
            "parent": None}
