"""Exact-string tests for llminfra.commands.ollama (Ollama)."""

from __future__ import annotations

from llminfra.commands import ollama as c
from llminfra.commands import raw


def test_ollama_commands():
    assert raw(c.ollama_tags("http://10.0.0.5:11434/")) == (
        "curl -sf -m 10 --retry 5 --retry-delay 1 --retry-connrefused http://10.0.0.5:11434/api/tags 2>/dev/null || true"
    )
    assert raw(c.ollama_pull("/opt/o", "ollama", "qwen2.5:7b; rm -rf /")) == (
        "cd /opt/o && docker compose exec -T ollama ollama pull 'qwen2.5:7b; rm -rf /'"
    )
