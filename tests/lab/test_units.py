"""Pure parts of the lab: flag translation, names, run flags, hashing, keys, inventory."""

from __future__ import annotations

import io
import os
import ssl
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from lab_helpers import load_context_module

from llminfra_lab import images
from llminfra_lab import labsecrets
from llminfra_lab.containers import host_run_kwargs, tar_files
from llminfra_lab.engine import LabError, client
from llminfra_lab.inventory import lab_stack, write_secrets
from llminfra_lab.labsecrets import lab_ca, server_cert
from llminfra_lab.state import HOSTS, LabHost, LabState, address
from llminfra.model import parse_stack

ollama = load_context_module("ollama", "ollama_server.py")


@pytest.mark.parametrize("name, shown, path", [
    ("llama3", "llama3:latest", "registry.ollama.ai/library/llama3/latest"),
    ("qwen2.5:7b", "qwen2.5:7b", "registry.ollama.ai/library/qwen2.5/7b"),
    ("me/m:q4", "me/m:q4", "registry.ollama.ai/me/m/q4"),
    ("hf.co/a/b:Q4_K_M", "hf.co/a/b:Q4_K_M", "hf.co/a/b/Q4_K_M"),
])
def test_ollama_names_resolve_like_ollama(name, shown, path, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    assert ollama.display_name(name) == shown
    assert ollama.manifest_path(name) == tmp_path / "manifests" / path


def test_ollama_host_forms():
    assert ollama.listen_address("0.0.0.0:11434") == ("0.0.0.0", 11434)
    assert ollama.listen_address("http://10.0.0.1:8080/") == ("10.0.0.1", 8080)
    assert ollama.listen_address(None) == ("127.0.0.1", 11434)


def test_ollama_options_translate_to_openai():
    body = ollama.openai_request({"model": "x", "messages": [{"role": "user", "content": "hi"}],
                                  "stream": False, "options": {"num_predict": 8, "temperature": 0}})
    assert body == {"model": "smollm2", "messages": [{"role": "user", "content": "hi"}],
                    "stream": False, "max_tokens": 8, "temperature": 0}


def test_host_containers_use_the_measured_flags():
    kw = host_run_kwargs("gpu-1", "10.213.37.11")
    assert kw["cap_add"] == ["ALL"] and kw["cap_drop"] == ["SYS_RESOURCE"]
    assert kw["security_opt"] == ["seccomp=unconfined", "apparmor=unconfined"]
    assert kw["cgroupns"] == "host" and kw["command"] == "/sbin/init"
    assert kw["tmpfs"] == {"/run": "", "/run/lock": ""}
    assert kw["shm_size"] == "1g"  # vLLM under `ipc: host` needs 160 MiB per engine
    assert kw["volumes"] == {"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                             "llminfra-lab-gpu-1-docker": {"bind": "/var/lib/docker", "mode": "rw"}}
    assert "privileged" not in kw


def test_tar_files_keeps_modes():
    raw = tar_files({"root/.ssh/authorized_keys": (b"k\n", 0o600)}, {"root/.ssh": 0o700})
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert {m.name: (m.mode, m.isdir()) for m in tar.getmembers()} == {
            "root/.ssh": (0o700, True), "root/.ssh/authorized_keys": (0o600, False)}


def test_context_hash_follows_file_changes(tmp_path, monkeypatch):
    (tmp_path / "upstream").mkdir()
    (tmp_path / "upstream" / "Dockerfile").write_text("FROM x\n")
    monkeypatch.setattr(images, "HERE", tmp_path)
    first = images.context_hash("upstream")
    assert images.context_hash("upstream") == first
    (tmp_path / "upstream" / "Dockerfile").write_text("FROM y\n")
    assert images.context_hash("upstream") != first


def test_children_rebuild_when_a_parent_context_changes(tmp_path, monkeypatch):
    for name in ("llama-wheels", "llama-runtime", "ollama"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(f"# {name}\n")
    monkeypatch.setattr(images, "HERE", tmp_path)
    monkeypatch.setattr(images, "BUILD_CA_DIR", tmp_path / "no-ca")
    (tmp_path / "no-ca").mkdir()
    first = images.context_hash("ollama")
    (tmp_path / "llama-wheels" / "Dockerfile").write_text("# changed\n")
    assert images.context_hash("ollama") != first


def test_vllm_cpu_hash_follows_the_local_wheel_and_its_base(tmp_path, monkeypatch):
    (tmp_path / "vllm-cpu").mkdir()
    (tmp_path / "vllm-cpu" / "Dockerfile").write_text("FROM llminfra-lab/base:bookworm\n")
    wheel = tmp_path / "torch.whl"
    wheel.write_bytes(b"x" * 10)
    spec = images.SPECS["vllm-cpu"]
    monkeypatch.setattr(images, "HERE", tmp_path)
    monkeypatch.setattr(images, "BUILD_CA_DIR", tmp_path)
    monkeypatch.setitem(images.SPECS, "vllm-cpu", images.ImageSpec(
        spec.name, spec.tag, build_ca=True, suite=spec.suite, files={"wheels/t.whl": wheel}))
    first = images.context_hash("vllm-cpu")
    assert spec.suite == "bookworm" and images.base_hash("bookworm") != images.base_hash()
    wheel.write_bytes(b"x" * 11)
    assert images.context_hash("vllm-cpu") != first
    wheel.unlink()
    with pytest.raises(LabError, match="torch.whl, which is not on this machine"):
        images.context_hash("vllm-cpu")


def test_missing_engine_says_how_to_start_one(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(LabError, match=r"apt-get install -y docker\.io.*dockerd"):
        client()


def test_keys_and_ca_are_private_and_verify(tmp_path):
    pub = labsecrets.ssh_keypair(tmp_path / "ssh" / "id_ed25519", "op")
    assert pub.startswith("ssh-ed25519 ") and pub.endswith(" op")
    assert labsecrets.ssh_keypair(tmp_path / "ssh" / "id_ed25519", "op") == pub  # reused
    ca = labsecrets.lab_ca(tmp_path / "ca")
    crt = labsecrets.server_cert(tmp_path / "ca", tmp_path / "up", labsecrets.UPSTREAM_NAMES)
    for private in (tmp_path / "ssh" / "id_ed25519", tmp_path / "ca" / "ca.key",
                    tmp_path / "up" / "tls.key"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    # a client trusting only the lab CA accepts the cert for every upstream name
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(crt, tmp_path / "up" / "tls.key")
    client_ctx = ssl.create_default_context(cafile=str(ca))
    for name in labsecrets.UPSTREAM_NAMES:
        c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
        cli = client_ctx.wrap_bio(c_in, c_out, server_hostname=name)
        srv = server.wrap_bio(s_in, s_out, server_side=True)
        for _ in range(10):
            for side, src, dst in ((cli, c_out, s_in), (srv, s_out, c_in)):
                try:
                    side.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                dst.write(src.read())
        assert cli.getpeercert()["subjectAltName"][0] == ("DNS", "api.openai.com")


def _operator_key(lab: Path) -> None:
    """The operator key `check` loads (the lab makes it on `lab up`)."""
    key = lab / "ssh" / "id_ed25519"
    if lab.is_dir() and not key.exists():
        key.parent.mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)


def _state(lab: str = "/x/.lab") -> LabState:
    _operator_key(Path(lab))
    hosts = {s.name: LabHost(s.name, s.role, address(s.octet), "c-" + s.name, s.tunnel_only,
                             f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{s.octet:0>43}")
             for s in HOSTS}
    return LabState(lab, "n", "10.213.37.0/24", "root", f"{lab}/ssh/id_ed25519",
                    f"{lab}/known_hosts", f"{lab}/ca/ca.crt", address(20), [], hosts)


def test_lab_inventory_validates_against_the_stack_model(tmp_path):
    secrets_file = write_secrets(tmp_path / "lab.secrets.env")
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    before = secrets_file.read_text()
    assert write_secrets(secrets_file).read_text() == before  # stable across runs
    lab = tmp_path / ".lab"
    lab_ca(lab / "ca")  # the relay's certificate and OneAPI's trusted CA must exist
    server_cert(lab / "ca", lab / "relay-1", ("relay-1.lab",), (address(13),))
    stack = parse_stack(lab_stack(_state(str(lab))), tmp_path / "lab.yml")
    assert stack.gpu_hosts["gpu-2"].reach == "tunnel"
    assert stack.gpu_hosts["gpu-1"].ssh.host == "10.213.37.11"
    assert stack.gpu_hosts["gpu-1"].ssh.host_key.endswith("11".rjust(43, "0"))
    assert stack.gpu_hosts["gpu-1"].services[0].image == "ollama/ollama:lab"
    ollama, smol, embed = stack.gpu_hosts["gpu-2"].services
    assert ollama.image == "ollama/ollama:lab"
    assert smol.image == embed.image == "vllm/vllm-openai:lab"
    assert (smol.readiness_probe(), embed.readiness_probe()) == ("chat", "embeddings")
    assert "--enforce-eager" in embed.runtime("/opt/llminfra", stack.mirrors).command
    gw = stack.gateways["gw-1"].oneapi
    assert f"{gw.image}:{gw.version}" == "justsong/one-api:lab"
    assert stack.relays["relay-1"].access.allow_cidrs == ["10.213.37.10/32"]
    assert os.fspath(secrets_file) not in (tmp_path / "lab.yml").as_posix()
    # metrics on: vLLM through gpu-2's tunnels, both node exporters, the GPU collector
    from llminfra.render.metrics import scrape_targets

    assert [(t.job, t.address) for t in scrape_targets(stack, "gw-1")] == [
        ("gpu-1/node", "10.213.37.11:9100"), ("gpu-2/smol", "172.30.0.1:20832"),
        ("gpu-2/embed", "172.30.0.1:20436"), ("gpu-2/node", "127.0.0.1:20729")]


def test_lab_inventory_with_litellm_is_the_same_file_with_one_key_switched(tmp_path):
    from dataclasses import replace

    write_secrets(tmp_path / "lab.secrets.env")
    lab = tmp_path / ".lab"
    lab_ca(lab / "ca")
    server_cert(lab / "ca", lab / "relay-1", ("relay-1.lab",), (address(13),))
    oneapi = lab_stack(_state(str(lab)))
    litellm = lab_stack(replace(_state(str(lab)), engine="litellm"))
    stack = parse_stack(litellm, tmp_path / "lab.yml")
    gw = stack.gateways["gw-1"]
    assert gw.engine == "litellm" and f"{gw.litellm.image}:{gw.litellm.version}" == \
        "ghcr.io/berriai/litellm:lab"
    assert gw.litellm.trust_ca_files == [str(lab / "ca" / "ca.crt")]
    # the engine key, and the quota LiteLLM cannot count: nothing else differs
    oneapi["gateways"]["gw-1"]["engine"] = "litellm"
    oneapi["tokens"][1]["quota"] = "unlimited"
    assert oneapi == litellm


def test_new_api_lab_inventory_runs_the_emulator_as_new_api(tmp_path):
    write_secrets(tmp_path / "lab.secrets.env")
    lab = tmp_path / ".lab"
    lab_ca(lab / "ca")
    _operator_key(lab)
    server_cert(lab / "ca", lab / "relay-1", ("relay-1.lab",), (address(13),))
    state = _state(str(lab))
    state.flavor = "new-api"
    gw = parse_stack(lab_stack(state), tmp_path / "lab.yml").gateways["gw-1"].oneapi
    assert (gw.flavor, gw.image_ref, gw.root_access_token) == (
        "new-api", "calciumion/new-api:lab", None)
    assert images.SPECS["newapi"].parents == ("oneapi",)
    assert "calciumion/new-api:lab" in images.SPECS["newapi"].aliases
    dockerfile = (Path(images.__file__).parent / "newapi" / "Dockerfile").read_text()
    assert "ENV EMULATOR_FLAVOR=newapi" in dockerfile


def test_switching_a_running_lab_flavour_is_refused(tmp_path, monkeypatch):
    from llminfra_lab.lifecycle import lab_flavor

    monkeypatch.delenv("LLMINFRA_LAB_FLAVOR", raising=False)
    assert lab_flavor(tmp_path, None) == "oneapi"
    state = _state(str(tmp_path))
    state.flavor = "new-api"
    state.save()
    assert lab_flavor(tmp_path, None) == "new-api"
    monkeypatch.setenv("LLMINFRA_LAB_FLAVOR", "oneapi")
    with pytest.raises(LabError, match="lab down"):
        lab_flavor(tmp_path, None)
    with pytest.raises(LabError, match="one of"):
        lab_flavor(tmp_path, "litellm")


def test_printed_client_exports_never_shadow_a_lab_secret(tmp_path):
    from llminfra_lab.demo import PRINTED_EXPORTS
    from llminfra_lab.inventory import SECRETS

    lab = tmp_path / ".lab"
    lab_ca(lab / "ca")
    server_cert(lab / "ca", lab / "relay-1", ("relay-1.lab",), (address(13),))
    write_secrets(tmp_path / "lab.secrets.env")
    stack = parse_stack(lab_stack(_state(str(lab))), tmp_path / "lab.yml")
    declared = {name for _, name in stack.secret_names()}
    assert declared <= set(SECRETS)
    assert not declared & set(PRINTED_EXPORTS)
    assert "OPENAI_API_KEY" in PRINTED_EXPORTS  # what OpenAI clients read


def test_gpu_hosts_knob_adds_hosts_like_gpu1(tmp_path):
    from llminfra_lab.state import lab_hosts

    specs = lab_hosts(6)
    names = [s.name for s in specs]
    assert names == ["gw-1", "gpu-1", "gpu-2", "gpu-3", "gpu-4", "gpu-5", "gpu-6", "relay-1"]
    assert {s.octet for s in specs if s.name in ("gpu-3", "gpu-6")} == {31, 34}
    assert lab_hosts() == HOSTS
    with pytest.raises(ValueError):
        lab_hosts(1)
    lab = tmp_path / ".lab"
    lab_ca(lab / "ca")
    _operator_key(lab)
    server_cert(lab / "ca", lab / "relay-1", ("relay-1.lab",), (address(13),))
    state = _state(str(lab))
    state.hosts.update({s.name: LabHost(s.name, s.role, address(s.octet), "c-" + s.name, False,
                                        f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{s.octet:0>43}")
                        for s in specs if s.name.startswith("gpu-") and s.octet > 30})
    write_secrets(tmp_path / "lab.secrets.env")
    stack = parse_stack(lab_stack(state), tmp_path / "lab.yml")
    assert sorted(stack.gpu_hosts) == [f"gpu-{i}" for i in range(1, 7)]
    assert stack.gpu_hosts["gpu-5"].services[0].served() == ["qwen2.5:gpu-5"]
