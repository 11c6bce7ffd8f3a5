"""The gateway engine choice: one key switches OneAPI and LiteLLM; each refuses what it can't do."""

import pytest

from llminfra.model import StackError, parse_stack
from llminfra.model.litellm import LITELLM_VERSION, client_key

LITELLM = {"master_key": "LL_MASTER", "client_key_secret": "LL_CLIENTS"}


@pytest.fixture
def ll_secrets(secrets):
    return {**secrets, "LL_MASTER": "sk-master-value-0001", "LL_CLIENTS": "client-secret-value"}


def gw(d):
    return d["gateways"]["gw-1"]


def to_litellm(d):
    gw(d).update(engine="litellm", litellm=dict(LITELLM))
    return d


def errors(d, environ):
    with pytest.raises(StackError) as info:
        parse_stack(d, environ=environ)
    return info.value.lines


def test_oneapi_stays_the_default(base, secrets):
    stack = parse_stack(base, environ=secrets)
    g = stack.gateways["gw-1"]
    assert g.engine == "oneapi" and g.engine_settings is g.oneapi and g.litellm is None


def test_one_key_switches_the_same_inventory(base, ll_secrets):
    base = to_litellm(base)
    stack = parse_stack(base, environ=ll_secrets)
    g = stack.gateways["gw-1"]
    assert g.engine_settings is g.litellm
    assert g.litellm.version == f"main-v{LITELLM_VERSION}" and g.litellm.port == 4000
    [tunnel] = stack.tunnels("gw-1")
    assert tunnel.bind == "172.30.1.1"  # LiteLLM's network gateway, not OneAPI's
    gw(base)["engine"] = "oneapi"
    [tunnel] = parse_stack(base, environ=ll_secrets).tunnels("gw-1")
    assert tunnel.bind == "172.30.0.1"


def test_the_unused_engines_secrets_are_not_required(base, ll_secrets):
    base = to_litellm(base)
    for name in ("SESSION", "ROOT_TOKEN", "ROOT_PW"):
        ll_secrets.pop(name)
    parse_stack(base, environ=ll_secrets)
    gw(base)["engine"] = "oneapi"
    assert any(e.startswith("gw-1: oneapi/session_secret: secret SESSION is not set")
               for e in errors(base, ll_secrets))


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: gw(d).update(engine="litellm"), "gw-1: engine 'litellm' needs a litellm section"),
    (lambda d: gw(d).pop("oneapi"), "gw-1: engine 'oneapi' needs a oneapi section"),
    (lambda d: gw(d).update(engine="kong"),
     "gw-1: engine: input should be 'oneapi' or 'litellm' (got 'kong')"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].update(workers=4),
     "gw-1: litellm/workers: unknown key"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].pop("master_key"),
     "gw-1: litellm/master_key: is required"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].update(master_key="sk-inline"),
     "gw-1: litellm/master_key: 'sk-inline' is not a secret name: secrets are referenced by "
     "an UPPER_SNAKE name, never written inline"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].update(version="main-latest"),
     f"gw-1: litellm/version: 'main-latest' is not a pinned version (e.g. main-v{LITELLM_VERSION})"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].update(version="main-v1.107.0"),
     "gw-1: litellm/version: LiteLLM 1.107.0 is described as a compromised release; pin "
     f"another (e.g. main-v{LITELLM_VERSION})"),
    (lambda d: to_litellm(d)["gateways"]["gw-1"]["litellm"].update(network_subnet="10.9.0.0/31"),
     "gw-1: litellm/network_subnet: should have room for a few addresses (/30 or larger)"),
    (lambda d: to_litellm(d)["tokens"].append({"name": "bob", "quota": 500000}),
     "tokens: 1/quota: gateway gw-1 runs LiteLLM without a database, which cannot count "
     "quota: set quota: unlimited (or use engine: oneapi)"),
    (lambda d: to_litellm(d)["channels"][0].update(groups=["vip"]),
     "channels: 0: groups ['vip'] leave out 'default', the group kit tokens belong to; LiteLLM "
     "on gw-1 has no groups and would serve this channel to every token: add 'default' (or use "
     "engine: oneapi)"),
    (lambda d: to_litellm(d)["gpu_hosts"]["gpu-2"]["services"][0].update(tunnel_port=4000),
     "gpu-2: services/0/tunnel_port: gateway port 4000 on gw-1 already used by litellm/port"),
], ids=["no-section", "oneapi-removed", "unknown-engine", "unknown-key", "no-master-key",
        "inline-secret", "unpinned", "compromised", "subnet", "quota", "groups", "port-clash"])
def test_engine_errors(base, ll_secrets, mutate, expected):
    mutate(base)
    assert expected in errors(base, ll_secrets)


def test_quota_is_fine_while_the_engine_is_oneapi(base, ll_secrets):
    base["tokens"].append({"name": "bob", "quota": 500000})
    gw(base)["litellm"] = dict(LITELLM)  # declared, not chosen
    parse_stack(base, environ=ll_secrets)


def test_client_keys_are_derived_and_stable():
    key = client_key("client-secret-value", "apps")
    assert key == client_key("client-secret-value", "apps")
    assert key.startswith("sk-lmi-") and len(key) == 47
    assert key != client_key("client-secret-value", "alice")
    assert key != client_key("another-secret", "apps")
