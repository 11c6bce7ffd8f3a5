"""The Docker engine's own files."""

from __future__ import annotations

# Rendered by llminfra.render.render_daemon_json, kept by operations.docker.daemon_config.
DAEMON_JSON = "/etc/docker/daemon.json"
