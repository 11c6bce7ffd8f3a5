"""Only the OneAPI adapter knows wire codes: every neutral channel kind has one per flavour."""

import pytest

from llminfra.model import parse_stack
from llminfra.model.providers import CHANNEL_KINDS
from llminfra.oneapi.flavor import FLAVORS, NEWAPI, ONEAPI, channel_type
from llminfra.oneapi.from_stack import desired_state

SECRETS = {"SESSION": "session-value-00001", "ROOT_TOKEN": "roottoken-0123456789", "ROOT_PW": "rootpassword-0001",
           "DEEPSEEK_KEY": "sk-deepseek-value"}


def _stack(flavor):
    return {
        "gateways": {"gw-1": {
            "ssh": {"host": "10.0.0.3"}, "nginx": {"server_name": "api.test"},
            "oneapi": {"session_secret": "SESSION", "root_access_token": "ROOT_TOKEN",
                       "root_password": "ROOT_PW", "flavor": flavor}}},
        "channels": [{"name": "ds", "type": "deepseek", "key": "DEEPSEEK_KEY",
                      "base_url": "https://api.deepseek.com", "models": ["deepseek-chat"]}],
    }


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_channel_kind_has_a_code(flavor):
    assert all(isinstance(channel_type(kind, flavor), int) for kind in CHANNEL_KINDS)


@pytest.mark.parametrize("flavor, code", [(ONEAPI, 36), (NEWAPI, 43)])
def test_deepseek_channel_gets_the_flavours_deepseek_type(flavor, code):
    stack = parse_stack(_stack("new-api" if flavor == NEWAPI else "oneapi"), environ=SECRETS)
    [ds] = desired_state(stack, "gw-1").channels
    # Both adaptors append /v1/chat/completions to the base URL themselves.
    assert (ds.type, ds.base_url) == (code, "https://api.deepseek.com")


def test_model_token_name_limit_leaves_room_for_the_marker():
    # The model validates token names once; OneAPI's cap (30 bytes) includes our marker.
    from llminfra.model.gateway_objects import TOKEN_NAME_MAX
    from llminfra.oneapi.desired import MARKER

    assert TOKEN_NAME_MAX + len(MARKER.encode()) == 30
