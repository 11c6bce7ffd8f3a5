"""Facts about OpenAI-compatible model servers, as seen from the host they run on."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands import model_probe


class ModelEndpoint(FactBase[dict[str, Any]]):
    """
    What ``url`` serves, probed with curl on the host: the model ids in ``GET /v1/models``
    and the HTTP status of a one-token chat completion for ``model`` (0: no answer).
    ``api_key_file`` is a file on the host holding the bearer key.

    .. code:: python

        {"models": ["qwen2.5-7b"], "completion_status": 200}
    """

    @override
    def default(self):
        return {"models": [], "completion_status": 0}

    @override
    def requires_command(self, url, model, api_key_file=None):
        return "curl"

    @override
    def command(self, url, model, api_key_file=None):
        return model_probe(url, model, api_key_file)

    @override
    def process(self, output):
        fields = dict(line.partition(" ")[::2] for line in output)
        try:
            listing = json.loads(fields.get("models") or "{}")
        except json.JSONDecodeError:
            listing = {}
        data = listing.get("data") if isinstance(listing, dict) else None
        models = [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]
        status = fields.get("completion", "").strip()
        return {"models": models, "completion_status": int(status) if status.isdigit() else 0}


def is_servable(endpoint: dict[str, Any], model: str) -> bool:
    return model in endpoint["models"] and 200 <= endpoint["completion_status"] < 300
