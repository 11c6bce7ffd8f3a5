"""Exact-string tests for llminfra.commands.http (status probe, wait loop)."""

from __future__ import annotations

import subprocess

from llminfra.commands import http as c
from llminfra.commands import raw


def test_status_probe_on_host():
    assert raw(c.status_probe("http://127.0.0.1:3000/api/status")) == (
        "curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:3000/api/status ; echo"
    )


def test_status_probe_inside_service():
    assert raw(c.status_probe("http://h:1/", "/opt/one api", "oneapi")) == (
        "cd '/opt/one api' 2>/dev/null || exit 0;"
        " n=$(sed -n 's/^name: *//p' compose.yaml | head -n1 | tr -d \"\\\"'\");"
        " n=${n:-$(basename \"$PWD\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')};"
        ' c=$(docker ps -q --filter "label=com.docker.compose.project=$n"'
        " --filter label=com.docker.compose.service=oneapi | head -n1);"
        ' [ -n "$c" ] && docker exec "$c" wget -S -O /dev/null -T 5 http://h:1/ 2>&1'
        " | awk '/^ *HTTP\\//{code=$2} END{print code}' || true"
    )


def test_wait_command_accepts_listed_statuses():
    probe = c.status_probe("http://h:1/")
    assert raw(c.wait_command(probe, "OneAPI", 60, ("200", "401"), 3)) == (
        "end=$(( $(date +%s) + 60 )); while :; do code=$("
        " curl -s -o /dev/null -m 5 -w '%{http_code}' http://h:1/ ; echo );"
        ' case "$code" in 200|401) exit 0;; esac;'
        ' if [ "$(date +%s)" -ge "$end" ]; then'
        " printf 'llminfra: %s: %s (last status: %s)\\n' \"$(hostname)\""
        " 'OneAPI did not answer within 60s' \"${code:-none}\" >&2; exit 1; fi; sleep 3 ; done"
    )


def test_wait_command_any_status():
    probe = c.status_probe("http://h:1/")
    assert 'case "$code" in [1-5][0-9][0-9]) exit 0;; esac;' in raw(
        c.wait_command(probe, "tunnel", 5, None)
    )


def test_status_probe_inside_service_runs_wget_in_the_labelled_container(tmp_path):
    """Against a stub `docker`: the container is the one Compose labelled with the project the
    compose file names and the service asked for; its wget's status line is what is printed."""
    project = tmp_path / "gw"
    project.mkdir()
    (project / "compose.yaml").write_text('name: "llminfra-oneapi"\nservices:\n  oneapi:\n')
    stub = tmp_path / "docker"
    stub.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = ps ]; then [ "$4" = label=com.docker.compose.project=llminfra-oneapi ]'
        ' && [ "$6" = label=com.docker.compose.service=oneapi ] && echo c0ffee; exit 0; fi\n'
        '[ "$1 $2 $3" = "exec c0ffee wget" ] && echo "  HTTP/1.1 401 Unauthorized" >&2\n')
    stub.chmod(0o755)

    def probe(directory) -> str:
        return subprocess.run(["sh", "-c", raw(c.status_probe("http://h:1/", str(directory),
                                                              "oneapi"))],
                              capture_output=True, text=True, check=True,
                              env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout.strip()

    assert probe(project) == "401"
    assert probe(tmp_path / "absent") == ""  # no project: no answer, never another project's
    (project / "compose.yaml").write_text('name: "other"\nservices:\n  oneapi:\n')
    assert probe(project) == ""  # no container of this project runs the service


def test_statuses_probe_runs_every_url_in_one_exec():
    assert raw(c.statuses_probe(["http://h:1/a", "http://h:2/b"], "/opt/x", "oneapi")) == (
        "cd /opt/x 2>/dev/null || exit 0;"
        " n=$(sed -n 's/^name: *//p' compose.yaml | head -n1 | tr -d \"\\\"'\");"
        " n=${n:-$(basename \"$PWD\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')};"
        ' c=$(docker ps -q --filter "label=com.docker.compose.project=$n"'
        " --filter label=com.docker.compose.service=oneapi | head -n1);"
        ' [ -n "$c" ] && docker exec "$c" sh -c'
        " 'for u in \"$@\"; do printf '\"'\"'%s '\"'\"' \"$u\";"
        " wget -S -O /dev/null -T 5 \"$u\" 2>&1 | awk '\"'\"'/^ *HTTP\\//{code=$2} END{print code}'\"'\"';"
        " done' sh http://h:1/a http://h:2/b || true"
    )


def test_statuses_probe_prints_each_url_with_its_status(tmp_path):
    """The loop as `docker exec` would run it (a stub runs its arguments); wget answers 401
    for one URL and nothing for the other."""
    project = tmp_path / "gw"
    project.mkdir()
    (project / "compose.yaml").write_text('name: "llminfra-oneapi"\nservices:\n  oneapi:\n')
    (tmp_path / "docker").write_text(
        '#!/bin/sh\n[ "$1" = ps ] && { echo c0ffee; exit 0; }\nshift 2; exec "$@"\n')
    (tmp_path / "wget").write_text(
        '#!/bin/sh\nfor a; do u=$a; done\n'
        '[ "$u" = http://h:1/a ] && echo "  HTTP/1.1 401 Unauthorized" >&2\nexit 0\n')
    for stub in ("docker", "wget"):
        (tmp_path / stub).chmod(0o755)
    out = subprocess.run(["sh", "-c", raw(c.statuses_probe(["http://h:1/a", "http://h:2/b"],
                                                          str(project), "oneapi"))],
                         capture_output=True, text=True, check=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout
    assert out.splitlines() == ["http://h:1/a 401", "http://h:2/b "]
