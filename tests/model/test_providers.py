"""The providers table: a relay provider and a channel kind come from one row."""

from llminfra.model import parse_stack
from llminfra.model.providers import CHANNEL_KINDS, PROVIDERS
from llminfra.plan_view import describe


def test_channel_specs_carry_neutral_kinds_not_wire_codes(base, secrets):
    kinds = {c.name: c.kind for c in parse_stack(base, environ=secrets).channel_specs("gw-1")}
    assert kinds == {"gpu-1/qwen": "openai-compatible", "gpu-2/ollama": "openai-compatible",
                     "openai": "openai"}


def test_check_prints_kind_names(base, secrets):
    channels = describe(parse_stack(base, environ=secrets)).split("CHANNELS")[1].split("TOKENS")[0]
    rows = {cols[1]: cols[2] for cols in map(str.split, channels.splitlines()) if cols[:1] == ["gw-1"]}
    assert rows == {"gpu-1/qwen": "openai-compatible", "gpu-2/ollama": "openai-compatible",
                    "openai": "openai"}


def test_every_provider_channel_is_a_channel_kind():
    assert {p.channel for p in PROVIDERS.values()} <= set(CHANNEL_KINDS)


def test_deepseek_relay_and_channel(base, secrets):
    base["relays"]["relay-1"]["providers"].append({"kind": "deepseek"})
    base["channels"].append({"name": "deepseek", "type": "deepseek", "relay": "relay-1/deepseek",
                             "key": "OPENAI_KEY", "models": ["deepseek-chat"]})
    stack = parse_stack(base, environ=secrets)
    deepseek = stack.relays["relay-1"].providers[-1]
    assert (deepseek.upstream_host, deepseek.path_prefix) == ("api.deepseek.com", "/deepseek")
    [spec] = [c for c in stack.channel_specs("gw-1") if c.name == "deepseek"]
    assert (spec.kind, spec.base_url) == ("deepseek", "https://relay.test/deepseek")
