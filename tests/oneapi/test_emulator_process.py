"""The emulator runs as ``python3 -m`` from a copy of its package alone (stdlib only)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx

import llminfra_lab.oneapi_emulator as emulator_pkg

ACCESS = "fedcba9876543210fedcba9876543210"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copied_package(tmp_path):
    """The emulator package alone in a fresh directory, as the lab image holds it."""
    app = tmp_path / "app"
    shutil.copytree(os.path.dirname(emulator_pkg.__file__), app / "emu_copy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return app


def _start(app_dir, env):
    # -S: no site-packages (stdlib only), -E: ignore PYTHON* variables
    proc = subprocess.Popen([sys.executable, "-S", "-E", "-m", "emu_copy", "--host",
                             "127.0.0.1"], cwd=app_dir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    deadline = time.monotonic() + 60  # a Python start on a busy host: seconds, not 100 ms
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/api/status", timeout=1).json()["success"]:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(proc.stdout.read().decode())


def test_s2_standalone_process_from_copied_package_persists_across_restart(tmp_path):
    app = _copied_package(tmp_path)
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(_free_port()),
           "EMULATOR_STATE": str(tmp_path / "data" / "one-api.json"),
           "INITIAL_ROOT_ACCESS_TOKEN": ACCESS}
    proc, url = _start(app, env)
    try:
        h = {"Authorization": ACCESS}
        assert httpx.post(url + "/api/channel/", headers=h, json={"name": "kept", "key": "k"}
                          ).json()["success"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    proc, url = _start(app, env)
    try:
        names = [c["name"] for c in httpx.get(url + "/api/channel/", headers=h).json()["data"]]
        assert names == ["kept"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_s10_1_standalone_process_in_new_api_mode_from_the_environment(tmp_path):
    """What the calciumion/new-api:lab image does: the same package, EMULATOR_FLAVOR=newapi."""
    app = _copied_package(tmp_path)
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(_free_port()),
           "EMULATOR_STATE": str(tmp_path / "data" / "new-api.json"),
           "EMULATOR_FLAVOR": "newapi", "INITIAL_ROOT_ACCESS_TOKEN": ACCESS}
    proc, url = _start(app, env)
    try:
        assert httpx.get(url + "/api/setup").json()["data"]["status"] is False
        refused = httpx.get(url + "/api/channel/", headers={"Authorization": ACCESS})
        assert refused.json()["success"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
