"""Facts about OpenAI-compatible model servers, as seen from the host they run on."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.models import model_probe


class ModelEndpoint(FactBase[dict[str, Any]]):
    """
    What ``url`` serves, probed with curl on the host: the HTTP status of the server's
    ``health`` path (``None`` when not asked), the model ids in ``GET /v1/models`` and the
    HTTP status (0: no answer) of the smallest real request for ``model``: a one-token chat
    completion (``probe="chat"``), an embedding (``"embeddings"``) or none (``"list"``,
    status ``None``). ``api_key_file`` is a file on the host holding the key.

    .. code:: python

        {"health_status": 200, "models": ["qwen2.5-7b"], "request_status": 200}
    """

    @override
    def default(self):
        return {"health_status": None, "models": [], "request_status": 0}

    @override
    def requires_command(self, url, model, api_key_file=None, probe="chat", health=None):
        return "curl"

    @override
    def command(self, url, model, api_key_file=None, probe="chat", health=None):
        return model_probe(url, model, api_key_file, probe, health=health)

    @override
    def process(self, output):
        fields = dict(line.partition(" ")[::2] for line in output)
        try:
            listing = json.loads(fields.get("models") or "{}")
        except json.JSONDecodeError:
            listing = {}
        data = listing.get("data") if isinstance(listing, dict) else None
        models = [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]
        return {"health_status": _status(fields, "health"), "models": models,
                "request_status": _status(fields, "request")}


def _status(fields: dict[str, str], name: str) -> int | None:
    """None: not asked; 0: no answer."""
    if name not in fields:
        return None
    value = fields[name].strip()
    return int(value) if value.isdigit() else 0


def _ok(status: int | None) -> bool:
    return status is None or 200 <= status < 300


def is_servable(endpoint: dict[str, Any], model: str) -> bool:
    return (model in endpoint["models"] and _ok(endpoint.get("health_status"))
            and _ok(endpoint["request_status"]))
