"""Exact-string tests for llminfra.commands.models (model servers)."""

from __future__ import annotations

import json

import pytest

from llminfra.commands import models as c
from llminfra.commands import raw


def test_model_probe_without_key():
    assert raw(c.model_probe("http://127.0.0.1:8000/", "m")) == (
        "printf 'models '; curl -sS -m 10 http://127.0.0.1:8000/v1/models 2>/dev/null"
        " | tr -d '\\n'; echo ; printf 'request ';"
        " curl -sS -o /dev/null -w '%{http_code}' -m 60 -H 'Content-Type: application/json'"
        ' -d \'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}\''
        " http://127.0.0.1:8000/v1/chat/completions 2>/dev/null ; echo"
    )


def test_model_probe_list_sends_no_request():
    assert raw(c.model_probe("http://h:1", "m", probe="list")) == (
        "printf 'models '; curl -sS -m 10 http://h:1/v1/models 2>/dev/null | tr -d '\\n'; echo"
    )


def test_model_probe_embeddings():
    assert raw(c.model_probe("http://h:1", "e", probe="embeddings")).endswith(
        ' -d \'{"model":"e","input":"ping"}\' http://h:1/v1/embeddings 2>/dev/null ; echo'
    )


def test_unknown_probe():
    with pytest.raises(ValueError, match="probe should be one of chat, embeddings, list"):
        c.probe_request("completions", "m")


def test_model_probe_key_goes_through_stdin_not_argv():
    cmd = raw(c.model_probe("http://h:1", "m", "/k"))
    assert cmd.count("head -n1 /k | sed 's/^/Authorization: Bearer /' | curl ") == 2
    assert cmd.count("-H @-") == 2


def test_model_wait_without_logs():
    assert raw(
        c.model_wait("http://127.0.0.1:11434", "llama3.2", "ollama", 60, None, None, 2)
    ) == (
        "end=$(( $(date +%s) + 60 )); while :;"
        " do curl -fsS -m 10 http://127.0.0.1:11434/v1/models 2>/dev/null"
        " | grep -qF '\"llama3.2\"'"
        " && curl -fsS -o /dev/null -m 60 -H 'Content-Type: application/json'"
        ' -d \'{"model":"llama3.2","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}\''
        " http://127.0.0.1:11434/v1/chat/completions 2>/dev/null && exit 0;"
        ' if [ "$(date +%s)" -ge "$end" ]; then'
        " printf 'llminfra: %s: %s\\n' \"$(hostname)\""
        " 'service ollama did not serve model llama3.2 at http://127.0.0.1:11434 within 60s' >&2;"
        " exit 1; fi; sleep 2 ; done"
    )


@pytest.mark.parametrize("model", ["m", 'we"ird\\name'])
def test_probe_bodies_are_json(model):
    path, body = c.probe_request("chat", model)
    assert path == "/v1/chat/completions"
    assert json.loads(body)["model"] == model and json.loads(body)["max_tokens"] == 1
    path, body = c.probe_request("embeddings", model)
    assert path == "/v1/embeddings" and json.loads(body) == {"model": model, "input": "ping"}


def test_model_probe_reports_health_first_without_the_key():
    cmd = raw(c.model_probe("http://h:1", "m", "/k", "list", health="/health"))
    assert cmd.startswith(
        "printf 'health '; curl -sS -o /dev/null -w '%{http_code}' -m 10 http://h:1/health"
        " 2>/dev/null ; echo ; printf 'models '; head -n1 /k")


def test_model_wait_asks_health_before_the_listing():
    cmd = raw(c.model_wait("http://h:1", "m", "s", 60, health="/health"))
    assert "while :; do curl -fsS -o /dev/null -m 10 http://h:1/health 2>/dev/null && curl" in cmd
