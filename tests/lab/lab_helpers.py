"""Helpers for the lab tests (importable: tests/lab has no __init__.py)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import time
import urllib.request
from pathlib import Path

from llminfra_lab.images import HERE as IMAGES_DIR

REPO = Path(__file__).resolve().parents[2]


def load_context_module(image: str, filename: str):
    """Import a script from an image build context (they are not part of the package)."""
    path = IMAGES_DIR / image / filename
    spec = importlib.util.spec_from_loader(f"lab_ctx_{image}_{path.stem}",
                                           importlib.machinery.SourceFileLoader(
                                               f"lab_ctx_{image}_{path.stem}", str(path)))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http_json(url: str, body: dict | None = None, headers: dict | None = None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                          **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, json.loads(resp.read())


def wait_http(url: str, timeout: float = 120, container=None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except OSError as exc:
            last = exc
            if getattr(exc, "code", None):  # an HTTP error status: the server answers
                return
        time.sleep(0.5)
    logs = container.logs().decode(errors="replace")[-3000:] if container else ""
    raise AssertionError(f"{url} did not answer: {last}\n{logs}")


def container_ip(container) -> str:
    container.reload()
    nets = container.attrs["NetworkSettings"]["Networks"]
    return next(iter(nets.values()))["IPAddress"]


def remove_leftover(dc, name: str) -> None:
    """A container left by an interrupted run would block the fixed test name."""
    for box in dc.containers.list(all=True, filters={"name": f"^{name}$"}):
        box.remove(force=True)
