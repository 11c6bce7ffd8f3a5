"""OneAPIClient against the emulator (OneAPI flavour) and recorded New-API exchanges."""
import socket
import time

import pytest

from llminfra.oneapi.client import OneAPIClient, login_for_access
from llminfra.oneapi.errors import (
    OneAPIAuthError,
    OneAPIConnectionLost,
    OneAPIRequestError,
    OneAPIUnreachable,
)
from llminfra.oneapi.flavor import channel_type, compatible_base_url

from .conftest import ACCESS


@pytest.fixture
def client(emu):
    with OneAPIClient.from_env(emu.url, {"INITIAL_ROOT_ACCESS_TOKEN": ACCESS},
                               backoff=0.01) as c:
        yield c


def test_pagination_is_0_based_until_a_short_page(emu, client):
    for i in range(25):
        client.create_channel({"name": f"c{i}", "key": "k", "models": "m"})
    emu.clear_log()
    assert len(client.list_channels()) == 25
    assert [p for _, p, _ in emu.requests] == [f"/api/channel/?p={i}" for i in range(3)]
    for i in range(5):
        client.delete_channel(25 - i)
    emu.clear_log()
    assert len(client.list_channels()) == 20
    assert len(emu.requests) == 3  # two full pages, then an empty one


def test_success_false_becomes_typed_error_with_message(client):
    with pytest.raises(OneAPIRequestError) as info:
        client.get_channel(999)
    assert info.value.api_message == "record not found"
    assert str(info.value) == "OneAPI rejected GET /api/channel/999: record not found"
    with pytest.raises(OneAPIRequestError, match="WHERE conditions required"):
        client.update_channel({"name": "x"})


def test_exact_paths_never_redirect(emu, client):
    client.list_tokens()
    client.search_channels("x")
    client.get_options()
    client.list_groups()
    client.create_token({"name": "t", "expired_time": -1})
    assert {s for _, _, s in emu.requests} == {200}


def test_reads_are_retried_writes_are_not(emu, client):
    emu.set_faults("drop_read=1,fail_read=3")
    assert client.list_tokens()[0]["name"] == "Initial Root Token"
    emu.set_faults("drop_write=1")
    emu.clear_log()
    with pytest.raises(OneAPIConnectionLost, match="may or may not"):
        client.create_channel({"name": "once", "key": "k"})
    assert [m for m, _, _ in emu.requests] == ["POST"]


def test_wrong_token_and_unreachable_and_missing_token(emu):
    with OneAPIClient(emu.url, "bad") as bad, pytest.raises(OneAPIAuthError):
        bad.list_channels()
    with OneAPIClient("http://127.0.0.1:9", "x", retries=2, backoff=0.01) as gone:
        with pytest.raises(OneAPIUnreachable):
            gone.status()
    with pytest.raises(OneAPIAuthError, match="INITIAL_ROOT_ACCESS_TOKEN"):
        OneAPIClient.from_env(emu.url, {})


def test_read_timeout_is_bounded():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts connections, never answers
    url = f"http://127.0.0.1:{srv.getsockname()[1]}"
    start = time.monotonic()
    with OneAPIClient(url, "x", timeout=0.3, retries=2, backoff=0.01) as c:
        with pytest.raises(OneAPIConnectionLost):
            c.list_channels()
    assert time.monotonic() - start < 10  # 3 tries of 0.3 s; unbounded would hang
    srv.close()


def test_rotate_access_token_and_password_probe(emu, client):
    new = client.rotate_access_token()
    assert len(new) == 32 and client.get_self()["username"] == "root"
    assert client.password_works("root", "123456") is True
    assert client.password_works("root", "wrong") is False
    assert client.get_self()["username"] == "root"  # still authenticated by token
    assert len(login_for_access(emu.url, "root", "123456").access_token) == 32


def test_flavor_type_ids_and_base_urls():
    assert channel_type("openai-compatible") == 50
    assert channel_type("openai-compatible", "newapi") == 1
    assert channel_type("ollama") == 30 and channel_type("ollama", "newapi") == 4
    assert compatible_base_url("http://h:8000/v1/") == "http://h:8000/v1"
    assert compatible_base_url("http://h:8000", "newapi") == "http://h:8000"
    with pytest.raises(ValueError):
        channel_type("openai", "litellm")
