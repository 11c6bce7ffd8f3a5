"""Facts about Docker Compose projects deployed by llminfra."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase
from pyinfra.api.exceptions import FactProcessError
from typing_extensions import override

from llminfra.commands.compose import compose_state, kit_projects


def parse_ps(lines: list[str]) -> list[dict[str, Any]]:
    """Containers from ``docker compose ps --format json``.

    Compose before 2.21 prints one JSON array, later versions one object per line.
    """
    text = "\n".join(lines).strip()
    if not text:
        return []
    try:
        if text.startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as e:
        raise FactProcessError(f"unreadable `docker compose ps` output: {e}") from e
    return [
        {
            "service": row.get("Service", ""),
            "name": row.get("Name", ""),
            "state": str(row.get("State", "")).lower(),
        }
        for row in rows
    ]


class ComposeProject(FactBase[dict[str, Any] | None]):
    """
    State of the Compose project in ``project_dir`` (its file ``compose.yaml``), or ``None``
    when that file is absent.

    .. code:: python

        {
            "file_sha256": "…",     # sha256 of compose.yaml
            "config_sha256": "…",   # sha256 of compose.yaml and the env files beside it now
            "stamp": "…",           # config_sha256 recorded at the last `up` (None: never)
            "services": ["vllm"],
            "containers": [{"service": "vllm", "name": "gpu-vllm-1", "state": "running"}],
        }
    """

    @override
    def requires_command(self, project_dir, compose_command="docker compose", project_name=None):
        return compose_command.split()[0]

    @override
    def command(self, project_dir, compose_command="docker compose", project_name=None):
        return compose_state(project_dir, compose_command, project_name)

    @override
    def process(self, output):
        tagged: dict[str, list[str]] = {
            "file": [],
            "stamp": [],
            "config": [],
            "service": [],
            "ps": [],
        }
        for line in output:
            tag, _, value = line.partition(" ")
            if tag in tagged:
                tagged[tag].append(value.strip() if tag != "ps" else value)
        if not tagged["file"]:
            return None
        first = {
            tag: (values[0] if values and values[0] else None) for tag, values in tagged.items()
        }
        return {
            "file_sha256": first["file"],
            "config_sha256": first["config"],
            "stamp": first["stamp"],
            "services": sorted(name for name in tagged["service"] if name),
            "containers": parse_ps(tagged["ps"]),
        }


class KitProjects(FactBase[dict[str, int]]):
    """
    Model-service Compose projects the kit made under ``data_dir`` (see
    ``commands.compose.kit_projects``): project name -> number of its containers.

    .. code:: python

        {"llm-smol": 1, "llm-old": 0}
    """

    @override
    def default(self):
        return {}

    @override
    def command(self, data_dir):
        return kit_projects(data_dir)

    @override
    def process(self, output):
        found = {}
        for line in output:
            tag, name, count = (line.split() + ["", "", ""])[:3]
            if tag == "project" and name:
                found[name] = int(count) if count.isdigit() else 0
        return found
