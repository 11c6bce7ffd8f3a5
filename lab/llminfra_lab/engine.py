"""Connection to the local Docker engine that hosts the lab."""

from __future__ import annotations

import docker
from docker.errors import DockerException

START_HINT = (
    "No Docker engine answers. On Debian: `apt-get install -y docker.io` and start it "
    "with `dockerd >/var/log/dockerd.log 2>&1 &` (or run scripts/start-dockerd.sh)."
)


class LabError(RuntimeError):
    """The lab cannot be built or started; the message says what to do."""


def client() -> docker.DockerClient:
    # long timeout: docker save/load and image builds stream for minutes
    try:
        dc = docker.from_env(timeout=900)
        dc.ping()
    except DockerException as exc:
        raise LabError(f"{START_HINT} ({exc.__class__.__name__}: {exc})") from exc
    return dc
