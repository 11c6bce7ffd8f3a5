"""Facts about OpenAI-compatible model servers, as seen from the host they run on."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.models import model_probe


class ModelEndpoint(FactBase[dict[str, Any]]):
    """
    What ``url`` serves, probed with curl on the host: the model ids in ``GET /v1/models``
    and the HTTP status (0: no answer) of the smallest real request for ``model``: a
    one-token chat completion (``probe="chat"``), an embedding (``"embeddings"``) or none
    (``"list"``, status ``None``). ``api_key_file`` is a file on the host holding the key.

    .. code:: python

        {"models": ["qwen2.5-7b"], "request_status": 200}
    """

    @override
    def default(self):
        return {"models": [], "request_status": 0}

    @override
    def requires_command(self, url, model, api_key_file=None, probe="chat"):
        return "curl"

    @override
    def command(self, url, model, api_key_file=None, probe="chat"):
        return model_probe(url, model, api_key_file, probe)

    @override
    def process(self, output):
        fields = dict(line.partition(" ")[::2] for line in output)
        try:
            listing = json.loads(fields.get("models") or "{}")
        except json.JSONDecodeError:
            listing = {}
        data = listing.get("data") if isinstance(listing, dict) else None
        models = [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]
        status = fields["request"].strip() if "request" in fields else None
        if status is not None:
            status = int(status) if status.isdigit() else 0
        return {"models": models, "request_status": status}


def is_servable(endpoint: dict[str, Any], model: str) -> bool:
    status = endpoint["request_status"]
    return model in endpoint["models"] and (status is None or 200 <= status < 300)
