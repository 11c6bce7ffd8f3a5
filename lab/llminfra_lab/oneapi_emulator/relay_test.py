"""GET /api/channel/test/:id (docs/gateway-contract.md §4.1.3; New-API §10.4)."""
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
    newapi = ctx.app.flavor == "newapi"
    if newapi:  # query, then the channel's test_model, then its first model
        model = given or channel.get("test_model") or channel["models"].split(",")[0] \
            or "gpt-4o-mini"
    else:
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
                           False, ctx.app.flavor) as resp:
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
    answer = {"success": success, "message": "" if success and newapi else message,
              "time": round(elapsed, 3) if success else 0}
    if not newapi:
        answer["modelName"] = given
    return 200, answer
