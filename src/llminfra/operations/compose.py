"""Converge Docker Compose projects, changing the host only when something drifted."""

from __future__ import annotations

import hashlib
import posixpath
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, operation

from llminfra.commands.compose import (
    COMPOSE_FILE,
    compose_down,
    compose_up,
    project_dir_create,
    project_remove,
)
from llminfra.commands.files import chmod_private
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.compose import ComposeProject, KitProjects


def _project_fact(project_dir, compose_command="docker compose", project_name=None, **_):
    return ComposeProject, {"project_dir": project_dir, "compose_command": compose_command,
                            "project_name": project_name}


@expecting(lambda **a: [_project_fact(**a)])
@operation()
def project(
    project_dir: str,
    compose: str | None = None,
    present: bool = True,
    project_name: str | None = None,
    compose_command: str = "docker compose",
):
    """
    Keep one Compose project up (or down), running ``up`` only when it would do something.

    + project_dir: directory on the host holding ``compose.yaml``
    + compose: content of ``compose.yaml``; uploaded (mode 0600, never diffed or printed, so it
      may hold secrets) when it differs. ``None``: the caller uploads the file(s) itself
    + present: ``True`` keeps the project up, ``False`` runs ``down`` while anything is left
    + project_name: compose project name (default: basename of ``project_dir``)
    + compose_command: ``docker compose`` or ``docker-compose``

    ``up -d --remove-orphans`` runs when the compose file is (re)uploaded, when the
    fingerprint of compose.yaml and the env files beside it (``*.env``, ``.env``: what
    Compose reads for the config) differs from the one recorded at the last ``up``, or when
    a service has no running container. Otherwise the op is a no-op. Services are expected
    to be long-running: a one-shot service that exits would be started again on each run.

    **Examples:**

    .. code:: python

        from llminfra.operations import compose

        compose.project(
            name="vLLM Compose project",
            project_dir="/opt/llminfra/vllm",
            compose=rendered_compose_yaml,
        )
    """
    label = project_name or posixpath.basename(project_dir.rstrip("/"))
    args = (project_dir, compose_command, project_name)
    found = batch.read(_project_fact(project_dir, compose_command, project_name))

    if not present:
        if found and (found["containers"] or found["stamp"]):
            yield compose_down(*args)
        else:
            host.noop(f"compose project {label} is down")
        return

    upload = compose is not None and (
        found is None or found["file_sha256"] != hashlib.sha256(compose.encode()).hexdigest()
    )
    if upload:
        path = posixpath.join(project_dir, COMPOSE_FILE)
        yield project_dir_create(project_dir)
        yield FileUploadCommand(
            StringIO(compose), path, remote_temp_filename=host.get_temp_filename(path)
        )
        yield chmod_private(path)

    if upload or found is None or _drifted(found):
        yield compose_up(*args)
    else:
        host.noop(f"compose project {label} is up to date")


def _drifted(found) -> bool:
    running = {c["service"] for c in found["containers"] if c["state"] == "running"}
    return found["config_sha256"] != found["stamp"] or not set(found["services"]) <= running


@expecting(lambda data_dir, **_: [(KitProjects, {"data_dir": data_dir})])
@operation()
def projects_absent(data_dir: str, keep: list[str], compose_command: str = "docker compose"):
    """
    Remove the model-service projects the kit made in ``data_dir`` that are not in ``keep``.

    + data_dir: the GPU host's ``data_dir``
    + keep: project names still declared (``llm-<service>``); ``[]`` removes them all
    + compose_command: ``docker compose`` or ``docker-compose``

    Only ``llm-*`` directories whose compose.yaml carries the kit's header are candidates, so
    a project someone else made is never touched. Each is brought down (its containers and
    their GPU reservations go) and its directory deleted; model caches live outside it.

    **Examples:**

    .. code:: python

        compose.projects_absent(
            name="Services no longer declared",
            data_dir="/opt/llminfra",
            keep=["llm-qwen"],
        )
    """
    found = batch.get(KitProjects, data_dir=data_dir)
    stale = sorted(set(found) - set(keep))
    if not stale:
        host.noop(f"no undeclared model service in {data_dir}")
        return
    for name in stale:
        yield project_remove(data_dir, name, compose_command)
