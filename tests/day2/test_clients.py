"""`llminfra clients`: paste-ready settings whose variables a shell really takes."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from example_secrets import write_filled

from llminfra.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def prod(tmp_path) -> Path:
    inv = tmp_path / "prod.yml"
    shutil.copy(REPO / "inventory" / "prod.yml", inv)
    write_filled(tmp_path / "prod.secrets.env")
    return inv


def _capture(prod: Path, keys: dict[str, str]) -> None:
    state = prod.parent / ".llminfra" / "prod-gw-1"
    state.mkdir(parents=True)
    (state / "oneapi-tokens.env").write_text("".join(f"{k}={v}\n" for k, v in keys.items()))


def test_pasted_output_sets_what_the_openai_sdk_reads(prod, capsys):
    _capture(prod, {"LMI_TOKEN_APPS": "sk-apps123", "LMI_TOKEN_ALICE": "sk-alice456"})
    assert main(["clients", str(prod), "alice"]) == 0
    out = capsys.readouterr().out
    assert "sk-apps123" not in out  # only the token asked for
    env = subprocess.run(["bash", "-c", out + '\nprintf "%s|%s|%s" "$OPENAI_BASE_URL" '
                          '"$OPENAI_API_KEY" "$OPENAI_API_BASE"'], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"]}).stdout
    # curl fails here (no such host): what counts is that the exports took
    assert env.endswith("https://api.example.com/v1|sk-alice456|https://api.example.com/v1")
    assert "BASE_URL=https://api.example.com OPENAI_API_KEY=sk-alice456" in out


def test_every_token_when_none_is_named_and_missing_keys_are_reported(prod, capsys):
    _capture(prod, {"LMI_TOKEN_APPS": "sk-apps123"})
    assert main(["clients", str(prod)]) == 1
    captured = capsys.readouterr()
    assert "# gw-1 / token apps" in captured.out and "# gw-1 / token alice" in captured.out
    assert "not captured yet: alice" in captured.err


def test_unknown_token_is_one_line_naming_the_declared_ones(prod, capsys):
    assert main(["clients", str(prod), "bob"]) == 2
    assert capsys.readouterr().err.strip() == ("tokens: no token named 'bob' "
                                               "(declared: apps, alice)")
