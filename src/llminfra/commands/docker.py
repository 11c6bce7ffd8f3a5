"""The Docker engine's own files, and its images: is one on the host, pull one."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

# Rendered by llminfra.render.render_daemon_json, kept by operations.docker.daemon_config.
DAEMON_JSON = "/etc/docker/daemon.json"


def image_present(image: str) -> StringCommand:
    """Print ``present`` when the engine has ``image`` (by tag or digest); exit 0 always."""
    return StringCommand(
        "docker image inspect", QuoteString(image), ">/dev/null 2>&1 && echo present || true",
    )  # fmt: skip


def image_pull(image: str) -> StringCommand:
    # --quiet: one line at the end; progress comes from the op's heartbeat instead
    return StringCommand("docker pull --quiet", QuoteString(image))
