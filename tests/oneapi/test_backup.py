"""`llminfra gateway backup|restore` against emulators, per flavour. The gateway host is a
local directory: the real backup/restore scripts run in it under `sh`, with a stub `docker`
that stops and starts the emulator the way `docker compose stop|start` would."""
import io
import json
import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from llminfra.backup.export import SECRETS_FILE, read_export
from llminfra.backup.gateway import BackupError, backup, restore
from llminfra.cli import main
from llminfra.model import load_stack
from llminfra.oneapi.cli import Options, reconcile_gateway
from llminfra_lab.oneapi_emulator import Emulator

from .conftest import ACCESS

APPLY = Options(apply=True, test="none")  # the example's hosts do not exist: nothing to test
PROD = Path(__file__).resolve().parents[2] / "inventory" / "prod.yml"
SECRETS = {
    "GPU1_VLLM_KEY": "vllm-key-value-0001", "ONEAPI_SESSION_SECRET": "session-value-00001",
    "ONEAPI_ROOT_ACCESS_TOKEN": ACCESS, "ONEAPI_ROOT_PASSWORD": "new-root-pw-00001",
    "RELAY_SHARED_SECRET": "relay-value-000001", "OPENAI_PROVIDER_KEY": "sk-openai-value",
    "ANTHROPIC_PROVIDER_KEY": "anthropic-value", "GEMINI_PROVIDER_KEY": "gemini-value",
}
DOCKER_STUB = """#!/bin/sh
echo "$*" >> "$STUB_LOG"
case "$*" in
  "compose ps -q --status running oneapi") echo c0ffee ;;
esac
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalGateway:
    """The gateway's project dir with compose.yaml and data/, and its emulator."""

    def __init__(self, root: Path, flavor: str):
        self.dir, self.flavor, self.port = root / "gw", flavor, free_port()
        (self.dir / "data").mkdir(parents=True)
        (self.dir / "compose.yaml").write_text("# stand-in\n")
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "docker").write_text(DOCKER_STUB)
        (bin_dir / "docker").chmod(0o755)
        self.log = root / "docker.log"
        self.env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}",
                        STUB_LOG=str(self.log))
        self.emu = None
        self.start()

    def start(self):
        env = {"SESSION_SECRET": "s", "INITIAL_ROOT_ACCESS_TOKEN": ACCESS}
        self.emu = Emulator(str(self.dir / "data" / "one-api.json"), port=self.port, env=env,
                            flavor=self.flavor).start()

    @property
    def url(self):
        return self.emu.url

    def run(self, script, stdin=None):
        restarting = " stop oneapi" in script
        if restarting:
            self.emu.stop()
        proc = subprocess.run(["sh", "-c", script], input=stdin or b"", env=self.env,
                              capture_output=True, check=True)
        if restarting:
            self.start()
        return proc.stdout

    def wipe(self):
        """A freshly deployed gateway: same project, empty database."""
        self.emu.stop()
        shutil.rmtree(self.dir / "data")
        (self.dir / "data").mkdir()
        self.start()


@pytest.fixture(params=["oneapi", "new-api"])
def flavor(request):
    return request.param


@pytest.fixture
def gateway(tmp_path, flavor):
    gw = LocalGateway(tmp_path, "newapi" if flavor == "new-api" else "oneapi")
    yield gw
    gw.emu.stop()


@pytest.fixture
def stack_file(tmp_path, gateway, flavor):
    data = yaml.safe_load(PROD.read_text())
    oneapi = data["gateways"]["gw-1"]["oneapi"]
    oneapi["data_dir"] = str(gateway.dir)
    if flavor == "new-api":
        oneapi["flavor"] = "new-api"
        for key in ("root_access_token", "image", "version"):
            oneapi.pop(key, None)
    f = tmp_path / "inv" / "prod.yml"
    f.parent.mkdir()
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    (f.parent / "prod.secrets.env").write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    (f.parent / "prod.secrets.env").chmod(0o600)
    return f


def deploy(stack_file, gateway):
    stack = load_stack(stack_file)
    assert reconcile_gateway(stack, "gw-1", APPLY, admin_url=gateway.url,
                             out=io.StringIO()) == 0
    return stack


def accepted(url, key):
    """The relay knows the key (no model serves "nope": 403/503, never 401)."""
    resp = httpx.post(url + "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code in (401, 403, 503), resp.text
    return resp.status_code != 401


def client_keys(stack_file):
    env = stack_file.parent / ".llminfra" / "prod-gw-1" / "oneapi-tokens.env"
    return dict(line.split("=", 1) for line in env.read_text().split())


def test_backup_then_restore_into_an_empty_gateway_keeps_ids_and_keys(
        stack_file, gateway, tmp_path):
    stack = deploy(stack_file, gateway)
    gateway.emu.store.table("channels").append(dict(  # a hand-made channel, key unknown
        gateway.emu.store.table("channels")[0], id=999, name="by-hand", key="hand-key"))
    gateway.emu.store.save()
    before = json.loads((gateway.dir / "data" / "one-api.json").read_text())
    out = backup(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url)
    target = tmp_path / "bk" / "gw-1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    for name in ("database.tar", SECRETS_FILE):
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o600
    public = (target / "export.json").read_text()
    for value in [*SECRETS.values(), *client_keys(stack_file).values(), "hand-key"]:
        assert value.removeprefix("sk-") not in public
    assert out.warnings == ["gw-1: channel by-hand: key only in the database copy (not "
                            "declared in the inventory)"]
    assert "pause oneapi" in gateway.log.read_text()  # copied while paused

    gateway.wipe()
    keys = client_keys(stack_file)
    assert not any(accepted(gateway.url, k) for k in keys.values())
    done = restore(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url)
    assert "same ids and keys" in done.lines[0]
    after = json.loads((gateway.dir / "data" / "one-api.json").read_text())
    assert after["channels"] == before["channels"]  # the hand-made one included
    assert [t["key"] for t in after["tokens"]] == [t["key"] for t in before["tokens"]]
    assert all(accepted(gateway.url, k) for k in keys.values())  # client keys work again
    assert reconcile_gateway(load_stack(stack_file), "gw-1", Options(), admin_url=gateway.url,
                             out=io.StringIO()) == 0  # nothing to change after the restore


def test_restore_refuses_a_gateway_that_is_not_empty(stack_file, gateway, tmp_path):
    stack = deploy(stack_file, gateway)
    backup(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url)
    with pytest.raises(BackupError, match="only into an empty gateway"):
        restore(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url)
    (tmp_path / "bk" / "gw-1" / "database.tar").write_bytes(b"tampered")
    with pytest.raises(BackupError, match="checksum"):
        restore(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url,
                force=True)


def test_export_import_recreates_channels_and_tokens_with_new_keys(
        stack_file, gateway, tmp_path, capsys, flavor):
    stack = deploy(stack_file, gateway)
    tokens_before = {t["name"]: t for t in gateway.emu.store.table("tokens")}
    channels_before = {c["name"]: c for c in gateway.emu.store.table("channels")}
    backup(stack, "gw-1", tmp_path / "bk", runner=gateway.run, admin_url=gateway.url)
    export = read_export(tmp_path / "bk" / "gw-1")
    assert {c["name"] for c in export.channels} == set(channels_before)
    old_keys = client_keys(stack_file)
    gateway.wipe()
    code = main(["gateway", "restore", str(stack_file), str(tmp_path / "bk"), "--from-export",
                 "--admin-url", gateway.url])
    assert code == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "new key" in err
    channels = {c["name"]: c for c in gateway.emu.store.table("channels")}
    assert set(channels) == set(channels_before)
    for name, ch in channels.items():
        old = channels_before[name]
        assert (ch["type"], ch["models"], ch["base_url"], ch["key"], ch["priority"]) == (
            old["type"], old["models"], old["base_url"], old["key"], old["priority"])
    tokens = {t["name"]: t for t in gateway.emu.store.table("tokens")
              if t["name"] != "Initial Root Token"}
    assert set(tokens) == {n for n in tokens_before if n != "Initial Root Token"}
    new_keys = client_keys(stack_file)  # the tokens file now holds the new keys
    assert set(new_keys) == set(old_keys) and not set(new_keys.values()) & set(old_keys.values())
    assert all(accepted(gateway.url, k) for k in new_keys.values())
    plan = io.StringIO()
    reconcile_gateway(load_stack(stack_file), "gw-1", Options(), admin_url=gateway.url, out=plan)
    # the kit still knows every object as its own; a fresh OneAPI root needs its password again
    summary = plan.getvalue().splitlines()[0]
    assert summary == ("== gw-1: 8 unchanged" if flavor == "new-api"
                       else "== gw-1: 1 verify, 8 unchanged")
    assert main(["gateway", "restore", str(stack_file), str(tmp_path / "bk"),
                 "--from-export", "--admin-url", gateway.url]) == 1  # not empty any more


def test_backup_cli_errors_are_one_line(stack_file, gateway, tmp_path, capsys):
    assert main(["gateway", "backup", str(stack_file), str(tmp_path / "bk"), "--gateway",
                 "gw-9"]) == 2
    assert main(["gateway", "restore", str(stack_file), str(tmp_path / "nothing"),
                 "--admin-url", gateway.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gw-1: restore: ") and "manifest.json" in err[-1]
