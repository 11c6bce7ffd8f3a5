"""compose.project against the real Docker engine and Compose: converge, no-op, heal, drift, down."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from llminfra.operations import compose

pytestmark = pytest.mark.docker

COMPOSE = """\
services:
  app:
    image: {image}
    environment:
      GREETING: ${{GREETING:-hello}}
  sidecar:
    image: {image}
"""


def containers(project: str) -> dict[str, dict]:
    """service -> docker inspect, read with plain docker (not our fact)."""
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not ids:
        return {}
    info = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True,
                                     text=True, check=True).stdout)  # fmt: skip
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in info}


@pytest.fixture
def project(tmp_path, docker_compose_env, sleep_image, monkeypatch):
    for key, value in docker_compose_env.items():
        monkeypatch.setenv(key, value)
    name = f"llminfra-test-{os.getpid()}"
    directory = tmp_path / name
    yield str(directory), name, COMPOSE.format(image=sleep_image)
    subprocess.run(["docker", "compose", "-p", name, "down", "--remove-orphans"],
                   cwd=tmp_path, capture_output=True)  # fmt: skip


def test_stack_lifecycle(project, apply):
    directory, name, content = project

    first = apply(compose.project, project_dir=directory, compose=content)
    assert first.did_succeed() and first.did_change()
    running = containers(name)
    assert {s: c["State"]["Status"] for s, c in running.items()} == {
        "app": "running",
        "sidecar": "running",
    }
    assert oct(os.stat(f"{directory}/compose.yaml").st_mode & 0o777) == "0o600"

    second = apply(compose.project, project_dir=directory, compose=content)
    assert second.did_succeed() and not second.will_change and not second.did_change()

    # Heal: a stopped service is started again, and only then.
    subprocess.run(["docker", "stop", "-t", "0", running["sidecar"]["Id"]], check=True,
                   capture_output=True)  # fmt: skip
    healed = apply(compose.project, project_dir=directory, compose=content)
    assert healed.did_change()
    assert containers(name)["sidecar"]["State"]["Status"] == "running"
    assert not apply(compose.project, project_dir=directory, compose=content).did_change()

    # Drift outside compose.yaml (an .env the caller manages) recreates the service.
    with open(f"{directory}/.env", "w") as f:
        f.write("GREETING=bonjour\n")
    drifted = apply(compose.project, project_dir=directory)
    assert drifted.will_change and drifted.did_change()
    assert "GREETING=bonjour" in containers(name)["app"]["Config"]["Env"]
    assert not apply(compose.project, project_dir=directory).did_change()

    down = apply(compose.project, project_dir=directory, present=False)
    assert down.did_succeed() and down.did_change()
    assert containers(name) == {}
    assert not apply(compose.project, project_dir=directory, present=False).did_change()


def test_invalid_compose_fails_loudly(project, apply):
    directory, _, _ = project
    meta = apply(compose.project, project_dir=directory, compose="services: [not, a, map]\n")
    assert meta.did_error()
