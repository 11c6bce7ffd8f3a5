"""GET /api/channel/test/:id (contract section 4.1.3)."""
import json
import os
import time

from .common import atoi, err
from .upstream import Unsupported, mapped_model, open_upstream, upstream_error

DEFAULT_PROMPT = "Output only your specific model name with no additional text."


def test_channel(ctx):
    with ctx.store.lock:
        row = ctx.store.find("channels", id=atoi(ctx.params["id"]))
        channel = dict(row) if row else None
    if channel is None:
        return err("record not found")
    given = ctx.arg("model")
    model = given or "gpt-3.5-turbo"
    if model not in channel["models"]:  # substring test, as OneAPI does
        model = channel["models"].split(",")[0]
    body = {"model": mapped_model(channel, model),
            "messages": [{"role": "user", "content": os.environ.get("TEST_PROMPT")
                          or DEFAULT_PROMPT}]}
    start = time.monotonic()
    message, success = "", False
    try:
        with open_upstream(channel, "/v1/chat/completions", json.dumps(body).encode(),
                           False) as resp:
            data = resp.read()
            if resp.status != 200:
                message = upstream_error(resp.status, data)[1]["error"]["message"]
            else:
                message = json.loads(data)["choices"][0]["message"]["content"]
                success = True
    except (OSError, Unsupported, ValueError, KeyError, IndexError, TypeError) as exc:
        message = str(exc) or exc.__class__.__name__
    elapsed = time.monotonic() - start
    with ctx.store.lock:
        if row is not None:
            row["test_time"] = int(time.time())
            row["response_time"] = int(elapsed * 1000) if success else 0
            ctx.store.save()
    return 200, {"success": success, "message": message,
                 "time": round(elapsed, 3) if success else 0, "modelName": given}
