"""OpenAI-compatible model servers: probe once, or wait until a model is servable."""

from __future__ import annotations

import json

from pyinfra.api import QuoteString, StringCommand


def _auth(api_key_file: str | None) -> tuple[list[object], list[object]]:
    """(prefix, curl flags) that send ``Authorization`` read from a host file via stdin.

    The key never appears in argv, command output or pyinfra's logs.
    """
    if api_key_file is None:
        return [], []
    prefix = ["head -n1", QuoteString(api_key_file), "| sed 's/^/Authorization: Bearer /' |"]
    return prefix, ["-H @-"]


PROBES = ("chat", "embeddings", "list")


def probe_request(probe: str, model: str) -> tuple[str, str] | None:
    """(path, JSON body) of the smallest real request for ``model``; None for ``list``."""
    if probe == "chat":
        body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
        return "/v1/chat/completions", json.dumps(body, separators=(",", ":"))
    if probe == "embeddings":
        return "/v1/embeddings", json.dumps(
            {"model": model, "input": "ping"}, separators=(",", ":")
        )
    if probe == "list":
        return None
    raise ValueError(f"probe should be one of {', '.join(PROBES)}, not {probe!r}")


def _request(prefix: list[object], flags: list[object], base: str, probe: str, model: str):
    request = probe_request(probe, model)
    if request is None:
        return None
    path, body = request
    return [
        *prefix, *flags, "-H 'Content-Type: application/json' -d", QuoteString(body),
        QuoteString(f"{base}{path}"), "2>/dev/null",
    ]  # fmt: skip


def _health(base: str, health: str | None, strict: bool) -> list[object]:
    """curl of the server's health URL (never sent the key: health needs none)."""
    if health is None:
        return []
    if strict:
        return ["curl -fsS -o /dev/null -m 10", QuoteString(f"{base}{health}"), "2>/dev/null &&"]
    return ["printf 'health ';", "curl -sS -o /dev/null -w '%{http_code}' -m 10",
            QuoteString(f"{base}{health}"), "2>/dev/null ; echo ;"]  # fmt: skip


def model_probe(
    url: str, model: str, api_key_file: str | None = None, probe: str = "chat", max_time: int = 60,
    health: str | None = None,
) -> StringCommand:
    """Print ``health <http status>`` (when ``health`` names the server's health path),
    ``models <json>`` and ``request <http status>`` (no request line for ``list``);
    always exits 0."""
    base = url.rstrip("/")
    prefix, auth = _auth(api_key_file)
    request = _request(
        ["printf 'request ';", *prefix],
        ["curl -sS -o /dev/null -w '%{http_code}' -m", QuoteString(str(max_time)), *auth],
        base, probe, model,
    )  # fmt: skip
    return StringCommand(
        *_health(base, health, strict=False),
        "printf 'models ';",
        *prefix, "curl -sS -m 10", *auth, QuoteString(f"{base}/v1/models"),
        "2>/dev/null | tr -d '\\n'; echo",
        *([";", *request, "; echo"] if request else []),
    )  # fmt: skip


def model_wait(
    url: str,
    model: str,
    service: str,
    timeout: int,
    logs: StringCommand | None = None,
    api_key_file: str | None = None,
    interval: int = 5,
    probe: str = "chat",
    health: str | None = None,
) -> StringCommand:
    """Poll until the ``health`` path (if any) answers 2xx, ``model`` is listed and answers
    the ``probe`` request, or fail after ``timeout`` s: then print an error naming host,
    service and model, then ``logs``, exit 1."""
    base = url.rstrip("/")
    prefix, auth = _auth(api_key_file)
    message = f"service {service} did not serve model {model} at {base} within {timeout}s"
    on_timeout: list[object] = [
        "printf 'llminfra: %s: %s\\n' \"$(hostname)\"", QuoteString(message), ">&2;",
    ]  # fmt: skip
    if logs is not None:
        on_timeout += ["echo 'last log lines:' >&2;", logs, ">&2;"]
    request = _request(prefix, ["curl -fsS -o /dev/null -m 60", *auth], base, probe, model)
    return StringCommand(
        "end=$(( $(date +%s) +", QuoteString(str(timeout)), "));",
        "while :; do",
        *_health(base, health, strict=True),
        *prefix, "curl -fsS -m 10", *auth, QuoteString(f"{base}/v1/models"), "2>/dev/null",
        "| grep -qF", QuoteString(json.dumps(model)),
        *(["&&", *request] if request else []), "&& exit 0;",
        "if [ \"$(date +%s)\" -ge \"$end\" ]; then", *on_timeout, "exit 1; fi;",
        "sleep", QuoteString(str(interval)), "; done",
    )  # fmt: skip
