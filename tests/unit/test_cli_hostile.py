"""`llminfra` subcommands given careless arguments: one line on stderr, exit 2, no traceback."""

import shutil
from pathlib import Path

import pytest
from example_secrets import write_filled

from llminfra.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def inventory(tmp_path):
    shutil.copy(REPO / "inventory" / "prod.yml", tmp_path / "prod.yml")
    write_filled(tmp_path / "prod.secrets.env")
    return tmp_path / "prod.yml"


def test_render_into_a_path_that_is_a_file(inventory, tmp_path, capsys):
    target = tmp_path / "not-a-dir"
    target.write_text("")
    assert main(["render", str(inventory), str(target)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"render: cannot write under {target}: Not a directory "
                                f"({target}/gpu-1/etc/docker)"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["clients", "{inv}", "--", "-apps"], "tokens: no token named '-apps' (declared: apps, alice)"),
    (["hostkey", "{inv}", "no-such-host"], "no-such-host: not a declared host"),
    (["status", "{inv}", "--gateway", "gw-9"], "--gateway: 'gw-9' is not a declared gateway"),
    (["check", "{dir}"], "stack: {dir} is a directory, not a file"),
    (["check", "{inv}", "--secrets-file", "{dir}"], "stack: secrets_file: {dir} is a directory, "
                                                    "not a file"),
])
def test_careless_arguments_exit_2_with_one_line(inventory, capsys, argv, expected):
    fill = {"inv": str(inventory), "dir": str(inventory.parent)}
    assert main([a.format(**fill) for a in argv]) == 2
    err = capsys.readouterr().err
    assert expected.format(**fill) in err.splitlines()
    assert "Traceback" not in err


def test_check_refuses_what_render_would_refuse(inventory, capsys, monkeypatch):
    import llminfra.render.bundle as bundle
    from llminfra.render.files import RenderError

    def refuse(stack, name):
        raise RenderError("WHAT_RENDER_SAYS")

    monkeypatch.setattr(bundle, "relay_files", refuse)
    assert main(["check", str(inventory)]) == 2
    out = capsys.readouterr()
    assert out.err.splitlines() == ["relay-1: render: WHAT_RENDER_SAYS"]
    assert out.out == ""


def test_check_renders_with_masked_secrets_only(inventory, capsys, monkeypatch):
    import llminfra.render.bundle as bundle

    seen = []
    real = bundle.gateway_files

    def spy(stack, name):
        seen.append(stack.secret("ONEAPI_SESSION_SECRET"))
        return real(stack, name)

    monkeypatch.setattr(bundle, "gateway_files", spy)
    assert main(["check", str(inventory)]) == 0
    assert seen == ["MASKED-ONEAPI_SESSION_SECRET"]
