"""Wait for model servers to actually serve their model."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from llminfra.commands.compose import compose_logs
from llminfra.commands.models import PROBES, model_wait
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.models import ModelEndpoint, is_servable

from .progress import Watched


def _first_probe(probe: str, steady_probe: str | None) -> str:
    """What is asked first: the steady probe while this run has changed nothing anywhere."""
    return steady_probe if steady_probe and not batch.executed_anywhere() else probe


def _endpoint_fact(url, model, api_key_file=None, probe="chat", health=None, steady_probe=None,
                   **_):
    return ModelEndpoint, {"url": url, "model": model, "api_key_file": api_key_file,
                           "probe": _first_probe(probe, steady_probe), "health": health}


@expecting(lambda **a: [_endpoint_fact(**a)] if a["probe"] in PROBES else [])
@operation()
def servable(
    url: str,
    model: str,
    service: str,
    project_dir: str | None = None,
    api_key_file: str | None = None,
    timeout: int = 900,
    interval: int = 5,
    probe: str = "chat",
    compose_command: str = "docker compose",
    health: str | None = None,
    steady_probe: str | None = None,
):
    """
    Ensure ``url`` lists ``model`` in ``/v1/models`` and answers a minimal real request.

    + url: base URL of the OpenAI-compatible server as seen from the host, e.g.
      ``http://127.0.0.1:8000``
    + model: served model name
    + service: compose service running the server (named in the error)
    + project_dir: compose project directory; its ``logs --tail 30`` are printed on timeout
    + api_key_file: file on the host holding the server's API key (sent as a bearer token
      through stdin, so it never shows in argv or logs)
    + timeout: seconds to wait (model loading can take many minutes)
    + interval: seconds between polls
    + probe: ``chat`` (one-token chat completion), ``embeddings`` (embedding models) or
      ``list`` (listed in /v1/models is enough)
    + compose_command: ``docker compose`` or ``docker-compose``
    + health: the server's health path (vLLM: ``/health``), which must answer 2xx too
    + steady_probe: a cheaper probe that is conclusive for this server, asked instead of
      ``probe`` while the run has changed nothing on any host (vLLM: ``list`` with ``health``);
      if it fails, the deploy waits with ``probe``

    A no-op when the model already answers. Otherwise polls with curl; on timeout prints
    which host/service/model failed and the service's last log lines, and fails the host.

    **Examples:**

    .. code:: python

        models.servable(
            name="Wait for qwen on vLLM",
            url="http://127.0.0.1:8000",
            model="qwen2.5-7b",
            service="vllm",
            project_dir="/opt/llminfra/vllm",
            api_key_file="/opt/llminfra/vllm/api-key",
        )
    """
    for value in (probe, steady_probe or probe):
        if value not in PROBES:
            raise OperationValueError(f"probe should be one of {', '.join(PROBES)}, not {value!r}")
    fact = _endpoint_fact(url, model, api_key_file, probe, health, steady_probe)
    if is_servable(batch.read(fact), model):
        asked = fact[1]["probe"]
        how = "" if asked == probe else f" ({asked} probe: nothing changed this run)"
        host.noop(f"model {model} is served by {service}{how}")
        return
    logs = None
    if project_dir is not None:
        logs = compose_logs(project_dir, service, 30, compose_command)
    wait = model_wait(url, model, service, timeout, logs, api_key_file, interval, probe, health)
    yield Watched(wait, f"waiting for {service} to serve {model} (loading; a first start also "
                  "downloads the weights)", timeout)
