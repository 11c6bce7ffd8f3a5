"""Exact-string tests for llminfra.commands.compose (Docker Compose)."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess

from llminfra.commands import compose as c
from llminfra.commands import raw
from llminfra.facts import compose as facts


def test_compose_up_records_config_hash_after_success():
    assert raw(c.compose_up("/opt/llminfra/vllm")) == (
        "cd /opt/llminfra/vllm && docker compose up -d --remove-orphans"
        " && docker compose config 2>/dev/null | sha256sum | cut -c1-64 > .llminfra-config.sha256"
    )


def test_compose_quotes_dir_and_project_name():
    assert raw(c.compose_down("/srv/my stack", "docker-compose", "a b")) == (
        "cd '/srv/my stack' && docker-compose -p 'a b' down --remove-orphans"
        " && rm -f .llminfra-config.sha256"
    )


def test_compose_state_script():
    assert raw(c.compose_state("/opt/x")) == (
        "cd /opt/x 2>/dev/null || exit 0; test -f compose.yaml || exit 0;"
        " printf 'file %s\\n' \"$(sha256sum compose.yaml | cut -c1-64)\";"
        " printf 'stamp %s\\n' \"$(cat .llminfra-config.sha256 2>/dev/null)\";"
        " c=$( docker compose config 2>/dev/null);"
        " printf 'config %s\\n' \"$( { [ -z \"$c\" ] || printf '%s\\n' \"$c\"; }"
        ' | sha256sum | cut -c1-64 )";'
        " printf '%s\\n' \"$c\" | awk " + shlex.quote(c.SERVICES_AWK) + " ;"
        " n=$(printf '%s\\n' \"$c\" | sed -n 's/^name: //p' | head -n1);"
        " n=${n:-$(basename \"$PWD\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')};"
        ' [ -z "$n" ] || docker ps -a --filter "label=com.docker.compose.project=$n"'
        " --filter label=com.docker.compose.oneoff=False --format " + shlex.quote(c.PS_FORMAT)
        + " 2>/dev/null | sed 's/^/ps /'"
    )
    assert " n='a b'; [ -z" in raw(c.compose_state("/opt/x", "docker-compose", "a b"))


CONFIG = """\
name: llm-smol
services:
  smol:
    command:
      - --port
      - "8000"
    environment:
      VLLM_API_KEY: secret-value
  "on":
    image: x
networks:
  default:
    name: llm-smol_default
"""


def _state(tmp_path, config: str) -> str:
    """compose_state run by sh against a stub `docker` printing ``config`` (`ps`: nothing)."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "config").write_text(config)
    stub = tmp_path / "docker"  # `compose config` prints config, `ps` the project it was asked
    stub.write_text(f'#!/bin/sh\n[ "$2" = config ] && cat {tmp_path / "config"}\n'
                    '[ "$1" = ps ] && printf \'{"Service":"smol","Name":"%s","State":"running"}\\n\' '
                    '"${4#label=com.docker.compose.project=}"\nexit 0\n')
    stub.chmod(0o755)
    return subprocess.run(["sh", "-c", raw(c.compose_state(str(project)))], check=True,
                          capture_output=True, text=True,
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout


def test_compose_state_hashes_config_as_the_up_stamp_does_and_lists_its_services(tmp_path):
    out = _state(tmp_path, CONFIG).splitlines()
    # the stamp `compose_up` writes: `config | sha256sum` of the same bytes
    assert f"config {hashlib.sha256(CONFIG.encode()).hexdigest()}" in out
    assert [line for line in out if line.startswith("service ")] == ["service smol",
                                                                     "service on"]
    assert not any("secret-value" in line for line in out)
    # the containers of the project the config names, as `compose ps` lists them
    assert facts.ComposeProject().process(out)["containers"] == [
        {"service": "smol", "name": "llm-smol", "state": "running"}]


def test_compose_state_of_a_config_that_fails_hashes_nothing(tmp_path):
    out = _state(tmp_path, "").splitlines()
    assert f"config {hashlib.sha256(b'').hexdigest()}" in out
    assert not any(line.startswith("service ") for line in out)
    assert "ps " + '{"Service":"smol","Name":"p","State":"running"}' in out  # named after its dir


def test_compose_logs_tail_and_redaction():
    cmd = raw(c.compose_logs("/opt/x", "vllm", 30))
    assert cmd.startswith(
        "cd /opt/x && docker compose logs --no-color --tail 30 vllm 2>&1 | sed -E "
    )


LOG_LINES = """\
INFO 11-22 non-default args: {'model': '/models/q', 'api_key': ['sk-abc123'], 'port': 8000}
vllm serve --api-key sk-abc123 --port 8000
VLLM_API_KEY=sk-abc123
Authorization: Bearer sk-abc123
{"token": "sk-abc123", "ok": 1}
password = sk-abc123
INFO: Started server process [1]
"""


def test_redaction_sed_hides_keys_in_real_sed():
    sed = shutil.which("sed")
    assert sed is not None
    out = subprocess.run(
        [sed, "-E", c.REDACT_SED], input=LOG_LINES, capture_output=True, text=True, check=True
    ).stdout
    assert "sk-abc123" not in out
    assert out.count("***") == 6
    assert "INFO: Started server process [1]" in out
    assert "'port': 8000" in out
