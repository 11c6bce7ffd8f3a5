"""Secret values: placeholders are refused (named, never shown), and the kit's own access-control
secrets have a minimum strength; provider keys are only checked for placeholders."""

import secrets as rnd
import shutil
from pathlib import Path

import pytest
from example_secrets import write_filled

from llminfra.cli import main
from llminfra.model import StackError, parse_stack
from llminfra.model.secret_values import placeholder

REPO = Path(__file__).resolve().parents[2]

PLACEHOLDERS = [
    "change-me", "changeme", "CHANGEME", "Change_Me", "sk-change-me", "change-me-8-20",
    "change-me-to-a-long-random-string", "replace-me", "REPLACE_ME_WITH_THE_KEY",
    "your-key-here", "YOUR_API_KEY", "<your key>", "<OPENAI_KEY>", "${OPENAI_KEY}",
    "{{ openai_key }}", "xxxxxxxxxxxxxxxx", "sk-xxxxxxxxxxxxxxxx", "sk-proj-XXXXXXXXXXXX",
    "TODO", "todo", "FIXME", "tbd", "secret", "password", "sk-secret", "null", "none",
    "123456", "12345678", "1234567890", "00000000", "aaaaaaaaaaaaaaaaaaaa", "...", "***", '""',
    "-", "placeholder", "dummy",
]
REAL = [
    "sk-lab-master-3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6", "0123456789abcdef0123456789abcdef",
    "vllm-key-$HOME#x-0001", "sk-ant-api03-Zq9v", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "correct-horse-battery-staple",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholder_table(value):
    assert placeholder(value)


@pytest.mark.parametrize("value", REAL)
def test_real_looking_values_pass(value):
    assert placeholder(value) is None


def test_generated_secrets_never_read_as_placeholders():
    for _ in range(2000):
        for value in (rnd.token_hex(16), rnd.token_urlsafe(24), "sk-" + rnd.token_hex(24)):
            assert placeholder(value) is None, value


def errors(data, environ, **kwargs):
    with pytest.raises(StackError) as info:
        parse_stack(data, environ=environ, **kwargs)
    return info.value.lines


@pytest.mark.parametrize("name,value,expected", [
    ("OPENAI_KEY", "sk-your-key-here", "channels: 0/key: secret OPENAI_KEY looks like a placeholder "
     "(holds a stand-in phrase such as 'change me' or 'your key here'): set the real value"),
    ("ROOT_PW", "123456", "gw-1: oneapi/root_password: secret ROOT_PW looks like a placeholder (is a "
     "run of sequential digits): set the real value"),
    ("VLLM_KEY", "TODO", "gpu-1: services/0/api_key: secret VLLM_KEY looks like a placeholder (a "
     "stand-in word such as 'todo' or 'password'): set the real value"),
    ("RELAY_KEY", "xxxxxxxxxxxxxxxxxxxx", "relay-1: access/shared_secret: secret RELAY_KEY looks "
     "like a placeholder (is one character repeated): set the real value"),
    ("SESSION", "<session secret>", "gw-1: oneapi/session_secret: secret SESSION looks like a "
     "placeholder (an unfilled <...> template): set the real value"),
])
def test_placeholder_refused_naming_secret_and_field_never_value(base, secrets, name, value,
                                                                 expected):
    secrets[name] = value
    lines = errors(base, secrets)
    assert lines == [expected]  # fixed text, no value; the strength rules skip a placeholder


def test_placeholder_used_twice_is_reported_once_at_its_first_use(base, secrets):
    base["channels"].append({"name": "other", "type": "openai", "relay": "relay-1/openai",
                             "key": "OPENAI_KEY", "models": ["gpt-4o-mini"]})
    secrets["OPENAI_KEY"] = "change-me"
    assert [x.split(":")[:2] for x in errors(base, secrets)] == [["channels", " 0/key"]]


def test_example_file_placeholders_are_warnings_only_where_asked(base, secrets, tmp_path):
    example = tmp_path / "t.secrets.env.example"
    example.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()
                               if k != "OPENAI_KEY") + "OPENAI_KEY=sk-change-me\n")
    environ = {k: v for k, v in secrets.items() if k != "OPENAI_KEY"}
    assert errors(base, environ, secrets_file=example) == [
        "channels: 0/key: secret OPENAI_KEY looks like a placeholder (holds a stand-in phrase such "
        "as 'change me' or 'your key here'): set the real value"]
    stack = parse_stack(base, environ=environ, secrets_file=example, example_ok=True)
    assert stack.warnings == [
        f"channels: 0/key: secret OPENAI_KEY is a placeholder (holds a stand-in phrase such as "
        f"'change me' or 'your key here') from {example}: fill in a copy before deploying"]
    # the same placeholder from the environment is never an example's
    assert len(errors(base, {**environ, "OPENAI_KEY": "sk-change-me"}, secrets_file=example,
                      example_ok=True)) == 1


def test_check_accepts_the_committed_examples_and_other_commands_refuse_them(tmp_path, capsys):
    for stack, example in (("prod.yml", "prod.secrets.env.example"),
                           ("examples/litellm.yml", "examples/litellm.secrets.env.example")):
        argv = [str(REPO / "inventory" / stack), "--secrets-file",
                str(REPO / "inventory" / example)]
        assert main(["check", *argv]) == 0
        out = capsys.readouterr().out
        assert "is a placeholder" in out.split("\nWARNINGS (")[1]
        assert main(["clients", *argv]) == 2
        err = capsys.readouterr().err
        assert "looks like a placeholder" in err and "Traceback" not in err


def test_a_copied_but_unfilled_example_is_refused_by_check(tmp_path, capsys):
    shutil.copy(REPO / "inventory" / "prod.yml", tmp_path / "prod.yml")
    shutil.copy(REPO / "inventory" / "prod.secrets.env.example", tmp_path / "prod.secrets.env")
    (tmp_path / "prod.secrets.env").chmod(0o600)
    assert main(["check", str(tmp_path / "prod.yml")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 8 and all("looks like a placeholder" in x for x in err)
    assert not [x for x in err if "change-me" in x]
    write_filled(tmp_path / "prod.secrets.env")
    assert main(["check", str(tmp_path / "prod.yml")]) == 0


# -- strength of the kit's own access-control secrets --------------------------------------

@pytest.mark.parametrize("name,value,expected", [
    ("RELAY_KEY", "relay-secret-01", "relay-1: access/shared_secret: secret RELAY_KEY is shorter "
     "than 16 characters (the relay's shared secret: who holds it may spend the provider keys)"),
    ("SESSION", "session-secret1", "gw-1: oneapi/session_secret: secret SESSION is shorter than 16 "
     "characters (OneAPI's session signing key: who knows it can forge admin logins)"),
    ("ROOT_TOKEN", "root-token-0001", "gw-1: oneapi/root_access_token: secret ROOT_TOKEN should be "
     "16 to 32 characters (OneAPI's admin API token; OneAPI stores access tokens in char(32))"),
    ("ROOT_PW", "root-password-01", None),  # 16: the least accepted
    ("ROOT_PW", "root-password-0001x", None),
    ("ROOT_PW", "root-password-00001xy", "gw-1: oneapi/root_password: secret ROOT_PW should be 16 "
     "to 20 characters (the gateway's root password; OneAPI and New-API refuse longer passwords)"),
    ("ROOT_PW", "rootpass-0001", "gw-1: oneapi/root_password: secret ROOT_PW should be 16 to 20 "
     "characters (the gateway's root password; OneAPI and New-API refuse longer passwords)"),
    ("VLLM_KEY", "vllm-key-0001", "gpu-1: services/0/api_key: secret VLLM_KEY is shorter than 16 "
     "characters (the model server's API key)"),
    ("OPENAI_KEY", "sk-1", None),  # a provider's key: the provider decides its shape
])
def test_minimum_strength(base, secrets, name, value, expected):
    secrets[name] = value
    if expected is None:
        parse_stack(base, environ=secrets)
    else:
        assert errors(base, secrets) == [expected]


def litellm(base):
    base["gateways"]["gw-1"].update(engine="litellm", litellm={
        "master_key": "LL_MASTER", "client_key_secret": "LL_CLIENTS"})
    base["tokens"] = [{"name": "apps", "quota": "unlimited"}]
    base["channels"][0]["groups"] = ["default"]
    return base


@pytest.mark.parametrize("master,clients,expected", [
    ("sk-master-key-0001", "client-secret-0001", []),
    ("master-key-value-0001", "client-secret-0001", [
        "gw-1: litellm/master_key: secret LL_MASTER should start with 'sk-' (LiteLLM's documented "
        "requirement for the master key)"]),
    ("sk-master-1", "client-secret", [
        "gw-1: litellm/master_key: secret LL_MASTER is shorter than 16 characters (LiteLLM's "
        "master (admin) key)",
        "gw-1: litellm/client_key_secret: secret LL_CLIENTS is shorter than 16 characters (the "
        "secret every LiteLLM client key is derived from)"]),
])
def test_litellm_master_key(base, secrets, master, clients, expected):
    environ = {**secrets, "LL_MASTER": master, "LL_CLIENTS": clients}
    if expected:
        assert errors(litellm(base), environ) == expected
    else:
        parse_stack(litellm(base), environ=environ)


def test_the_unused_engines_secrets_are_not_judged(base, secrets):
    environ = {**secrets, "LL_MASTER": "sk-master-key-0001", "LL_CLIENTS": "client-secret-0001",
               "ROOT_PW": "short", "SESSION": "change-me"}
    parse_stack(litellm(base), environ=environ)  # OneAPI's section is kept only for switching


def test_lab_generated_secrets_pass_every_rule():
    """What `llminfra lab up` writes must satisfy check (the lab inventory loads with it)."""
    from llminfra_lab.inventory import SECRETS as LAB

    from llminfra.model.secret_values import MASTER_KEY, ROOT_PASSWORD, _weak

    for _ in range(200):
        values = {name: make() for name, make in LAB.items()}
        assert [n for n, v in values.items() if placeholder(v)] == []
        assert _weak("P", values["ONEAPI_ROOT_PASSWORD"], ROOT_PASSWORD) is None
        assert _weak("M", values["LITELLM_MASTER_KEY"], MASTER_KEY) is None
        assert min(len(v) for v in values.values()) >= 16
