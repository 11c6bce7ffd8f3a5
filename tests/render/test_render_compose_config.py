"""Every rendered Compose file is accepted by the real Compose v2 binary."""

import json
import subprocess
from pathlib import Path

from render_helpers import SECRETS, compose_binary

from llminfra.render import render_all


def write_host(files, root: Path) -> list[Path]:
    """Lay the files out under `root` as on the host; return the Compose files."""
    composes = []
    for f in files:
        path = root / f.path_on_host.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
        if path.name == "compose.yaml":
            composes.append(path)
    return composes


def compose_config(binary: str, path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "-f", str(path), "config", *args], capture_output=True,
                          text=True, cwd=path.parent, env={"PATH": "/usr/bin:/bin"})


def test_every_compose_file_passes_compose_config(variant, tmp_path):
    binary = compose_binary()
    checked = 0
    for host, files in render_all(variant).items():
        for path in write_host(files, tmp_path / host):
            result = compose_config(binary, path, "-q")
            assert result.returncode == 0, f"{path}: {result.stderr}"
            checked += 1
    expected = sum(len(g.services) for g in variant.gpu_hosts.values()) + len(variant.gateways)
    assert checked == expected >= 4


def test_env_file_values_reach_the_container_verbatim(prod, tmp_path):
    """The vLLM key holds `$HOME#x`: Compose must neither interpolate nor cut it."""
    [path] = [p for p in write_host(render_all(prod)["gpu-1"], tmp_path)
              if p.parent.name == "llm-qwen"]
    result = compose_config(compose_binary(), path, "--format", "json")
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)["services"]["qwen"]["environment"]
    # `config` re-escapes `$` as `$$` in its output
    assert env["VLLM_API_KEY"].replace("$$", "$") == SECRETS["GPU1_VLLM_KEY"]
    assert env["HF_HOME"] == "/opt/llminfra/models/huggingface"


def test_compose_config_rejects_count_next_to_device_ids(prod, tmp_path):
    """The check above can fail: the GPU trap it guards against is refused by Compose."""
    [path] = [p for p in write_host(render_all(prod)["gpu-1"], tmp_path)
              if p.parent.name == "llm-qwen"]
    path.write_text(path.read_text().replace("device_ids:", "count: 1\n              device_ids:"))
    result = compose_config(compose_binary(), path, "-q")
    assert result.returncode != 0 and "exclusive" in result.stderr
