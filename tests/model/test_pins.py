"""A host with no pinned key can never be deployed (strict host key checking against the pins),
so `check` and the pyinfra inventory refuse it before any connection; `hostkey` still reads it."""
import os
import subprocess
import sys

import pytest
import yaml

from llminfra.inventory import pyinfra_groups

UNPINNED = ("{name}: ssh/host_key: no host key pinned (nor known_hosts): the deploy refuses to "
            "connect; `llminfra hostkey INVENTORY {name}` shows the key it presents")


def write(tmp_path, base, secrets):
    stack = tmp_path / "s.yml"
    stack.write_text(yaml.safe_dump(base))
    (tmp_path / "s.secrets.env").write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
    os.chmod(tmp_path / "s.secrets.env", 0o600)
    return stack


@pytest.mark.parametrize("section,name", [("gateways", "gw-1"), ("relays", "relay-1"),
                                          ("gpu_hosts", "gpu-1")])
def test_check_refuses_a_host_without_a_pin(base, secrets, tmp_path, section, name):
    del base[section][name]["ssh"]["host_key"]
    stack = write(tmp_path, base, secrets)
    proc = subprocess.run([sys.executable, "-m", "llminfra", "check", str(stack),
                           "--secrets-file", str(tmp_path / "s.secrets.env")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [UNPINNED.format(name=name)]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_deploy_inventory_refuses_it_before_connecting(base, secrets, tmp_path,
                                                           monkeypatch, capsys):
    del base["relays"]["relay-1"]["ssh"]["host_key"]
    stack = write(tmp_path, base, secrets)
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_:
        pyinfra_groups(stack)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines() == [UNPINNED.format(name="relay-1")]


def test_a_known_hosts_file_is_a_pin(base, secrets, tmp_path, monkeypatch):
    key = base["relays"]["relay-1"]["ssh"].pop("host_key")
    known = tmp_path / "known_hosts"
    known.write_text(f"10.0.0.4 {key}\n")
    base["relays"]["relay-1"]["ssh"]["known_hosts"] = str(known)
    stack = write(tmp_path, base, secrets)
    for k, value in secrets.items():
        monkeypatch.setenv(k, value)
    monkeypatch.setenv("HOME", str(tmp_path))  # operator-side known_hosts lands here
    assert set(pyinfra_groups(stack)) == {"gpu_hosts", "gateways", "relays"}
