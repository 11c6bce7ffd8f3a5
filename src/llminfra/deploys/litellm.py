"""LiteLLM on a gateway: its config files, its Compose project on loopback, a readiness wait."""

from __future__ import annotations

from io import StringIO

from pyinfra.api import deploy

from llminfra.commands.net import reach
from llminfra.model import Stack
from llminfra.operations import compose, paths, private
from llminfra.operations.http import answers
from llminfra.render import render_litellm_compose, render_litellm_secrets, trust_bundle
from llminfra.render.compose_litellm import READY_PATH, config_files, settings

LITELLM_START_TIMEOUT = 180


def litellm_ready_url(stack: Stack, gateway: str) -> str:
    ll = settings(stack, gateway)
    return f"http://{reach(ll.bind)}:{ll.port}{READY_PATH}"


@deploy("LiteLLM")
def litellm(stack: Stack, gateway: str) -> None:
    """
    LiteLLM's Compose project in ``litellm.data_dir``: config.yaml and the auth module beside
    it (0644, no secrets), every secret in a 0600 env file, then a wait until
    ``/health/readiness`` answers 200 on the loopback port. A changed config recreates the
    container (its hash is a label in compose.yaml).

    + stack: the loaded stack
    + gateway: key of ``stack.gateways`` (its engine is litellm)
    """
    ll = settings(stack, gateway)
    secret = render_litellm_secrets(stack, gateway)
    configs, trust = config_files(stack, gateway), trust_bundle(stack, gateway)
    private.file(name="LiteLLM secrets.env", path=secret.path_on_host,
                 src=StringIO(secret.content))  # fmt: skip
    for f in configs:
        paths.file(name=f"LiteLLM {f.path_on_host.rsplit('/', 1)[1]}", src=StringIO(f.content),
                   path=f.path_on_host, mode="644")  # fmt: skip
    if trust:
        paths.file(name="LiteLLM extra CA certificates", src=StringIO(trust.content),
                   path=trust.path_on_host, mode="644")  # fmt: skip
    compose.project(name="LiteLLM Compose project", project_dir=ll.data_dir,
                  compose=render_litellm_compose(stack, gateway).content)  # fmt: skip
    answers(name="LiteLLM answers /health/readiness", url=litellm_ready_url(stack, gateway),
            what="LiteLLM /health/readiness", timeout=LITELLM_START_TIMEOUT)  # fmt: skip
