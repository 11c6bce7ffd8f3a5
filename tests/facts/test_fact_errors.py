"""Unreadable output must raise FactProcessError (fails one host, not the run)."""

import pytest
from pyinfra.api.exceptions import FactProcessError

from llminfra.facts.compose import ComposeProject, parse_ps
from llminfra.facts.ollama import OllamaModels


def test_compose_ps_garbage():
    with pytest.raises(FactProcessError, match="docker compose ps"):
        ComposeProject().process(["file abc", "ps no json here"])


def test_ps_lines_with_blank_lines():
    rows = parse_ps(['{"Service":"a","Name":"p-a-1","State":"Running"}', "", " "])
    assert rows == [{"service": "a", "name": "p-a-1", "state": "running"}]


@pytest.mark.parametrize("output", [["<html>proxy error</html>"], ['{"models": [{"size": 1}]}'],
                                    ['["not", "an", "object"]']])
def test_ollama_model_list_garbage(output):
    # something else answering on the port is not "nothing pulled": the host fails, no pulls
    with pytest.raises(FactProcessError, match="not an Ollama model list"):
        OllamaModels().process(output)
