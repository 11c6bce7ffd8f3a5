"""Exact-string tests for llminfra.commands.compose (Docker Compose)."""

from __future__ import annotations

import shlex
import shutil
import subprocess

from pyinfra.api import StringCommand

from llminfra.commands import compose as c
from llminfra.commands import raw
from llminfra.facts import compose as facts


def test_compose_up_records_the_fingerprint_after_success():
    assert raw(c.compose_up("/opt/llminfra/vllm")) == (
        "cd /opt/llminfra/vllm && docker compose up -d --remove-orphans && " + c.FINGERPRINT
        + " > .llminfra-config.sha256"
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
        " printf 'config %s\\n' \"$(" + c.FINGERPRINT + ")\";"
        " awk " + shlex.quote(c.SERVICES_AWK) + " compose.yaml ;"
        " n=$(sed -n 's/^name: *//p' compose.yaml | head -n1 | tr -d \"\\\"'\");"
        " n=${n:-$(basename \"$PWD\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')};"
        ' [ -z "$n" ] || docker ps -a --filter "label=com.docker.compose.project=$n"'
        " --filter label=com.docker.compose.oneoff=False --format " + shlex.quote(c.PS_FORMAT)
        + " 2>/dev/null | sed 's/^/ps /'"
    )
    assert " n='a b'; [ -z" in raw(c.compose_state("/opt/x", "docker-compose", "a b"))


COMPOSE = """\
# Written by llminfra: model service smol.
name: "llm-smol"
services:
  smol:
    command:
      - --port
      - "8000"
    env_file:
      - secrets.env
  "on":
    image: x
networks:
  default:
    name: llm-smol_default
"""


def _run(tmp_path, script, files: dict[str, str]) -> str:
    """``script`` run by sh in a project directory holding ``files``, against a stub `docker`
    whose `ps` prints one running container of the project it was asked about."""
    project = tmp_path / "p"
    project.mkdir(exist_ok=True)
    for name, text in files.items():
        (project / name).write_text(text)
    stub = tmp_path / "docker"
    stub.write_text('#!/bin/sh\n[ "$1" = ps ] && printf \'{"Service":"smol","Name":"%s","State":'
                    '"running"}\\n\' "${4#label=com.docker.compose.project=}"\nexit 0\n')
    stub.chmod(0o755)
    return subprocess.run(["sh", "-c", raw(script(str(project)))], check=True,
                          capture_output=True, text=True,
                          env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout


def _fingerprint(tmp_path) -> str:
    return _run(tmp_path, lambda d: StringCommand("cd", d, "&&", c.FINGERPRINT), {}).strip()


def test_compose_state_lists_services_and_the_named_projects_containers(tmp_path):
    out = _run(tmp_path, c.compose_state, {"compose.yaml": COMPOSE}).splitlines()
    assert [line for line in out if line.startswith("service ")] == ["service smol",
                                                                     "service on"]
    assert facts.ComposeProject().process(out)["containers"] == [
        {"service": "smol", "name": "llm-smol", "state": "running"}]


def test_a_project_without_a_name_is_named_after_its_directory(tmp_path):
    out = _run(tmp_path, c.compose_state, {"compose.yaml": "services:\n  smol:\n"})
    assert 'ps {"Service":"smol","Name":"p","State":"running"}' in out.splitlines()


def test_the_fingerprint_follows_compose_yaml_and_env_files_only(tmp_path):
    _run(tmp_path, c.compose_state, {"compose.yaml": COMPOSE, "secrets.env": "K=1\n"})
    first = _fingerprint(tmp_path)
    stated = _run(tmp_path, c.compose_state, {}).splitlines()
    assert f"config {first}" in stated  # what the state reports is what `up` stamps
    _run(tmp_path, c.compose_state, {"api-key": "x", ".llminfra-config.sha256": first})
    assert _fingerprint(tmp_path) == first  # other files, and the stamp itself, do not count
    for name, text in [("secrets.env", "K=2\n"), (".env", "TAG=1\n"),
                       ("compose.yaml", COMPOSE + "# edited\n")]:
        _run(tmp_path, c.compose_state, {name: text})
        changed = _fingerprint(tmp_path)
        assert changed != first, name
        first = changed


def test_a_missing_project_prints_nothing(tmp_path):
    assert subprocess.run(["sh", "-c", raw(c.compose_state(str(tmp_path / "absent")))],
                          capture_output=True, text=True, check=True).stdout == ""


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
