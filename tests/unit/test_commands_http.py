"""Exact-string tests for llminfra.commands.http (status probe, wait loop)."""

from __future__ import annotations

from llminfra.commands import http as c
from llminfra.commands import raw


def test_status_probe_on_host():
    assert raw(c.status_probe("http://127.0.0.1:3000/api/status")) == (
        "curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:3000/api/status ; echo"
    )


def test_status_probe_inside_service():
    assert raw(c.status_probe("http://h:1/", "/opt/one api", "oneapi", "docker-compose")) == (
        "cd '/opt/one api' 2>/dev/null && docker-compose exec -T oneapi"
        " wget -S -O /dev/null -T 5 http://h:1/ 2>&1"
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
