"""The reconciler against the emulator's New-API mode: same guarantees as with OneAPI."""
import dataclasses

import pytest

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra.oneapi.keys import capture_keys
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import apply, plan
from llminfra.oneapi.registry import Fingerprints

from .newapi_helpers import admin, set_up


@pytest.fixture
def access(newemu):
    set_up(newemu.url)
    a = admin(newemu.url)
    yield a
    a.http.close()


@pytest.fixture
def client(newemu, access):
    with OneAPIClient(newemu.url, access.token, flavor="newapi", user_id=access.user_id,
                      retries=1, backoff=0.01) as c:
        yield c


@pytest.fixture
def state(upstream):
    return DesiredState(
        [DesiredChannel(f"c{i}", 1, upstream.url, (f"m{i}",), f"key-{i}") for i in range(3)],
        [DesiredToken("web"), DesiredToken("off", enabled=False)])


def test_newapi_converges_is_portable_and_reports_twins(newemu, client, access, state, tmp_path):
    fps = Fingerprints(access.token)
    local = LocalState(str(tmp_path / "a"))
    apply(client, plan(client, state, fps), local, fps)
    assert set(local.read_secrets()) == {"LMI_TOKEN_WEB", "LMI_TOKEN_OFF"}
    newemu.clear_log()
    p = plan(client, state, fps)
    assert p.is_empty and not p.conflicts
    other = LocalState(str(tmp_path / "b"))  # another machine: keys come from the key endpoint
    assert sorted(capture_keys(p, other, client).captured) == ["LMI_TOKEN_OFF", "LMI_TOKEN_WEB"]
    assert other.read_secrets() == local.read_secrets()
    assert [r for r in newemu.requests if r[0] != "GET" and "/key" not in r[1]] == []
    rotated = DesiredState([dataclasses.replace(state.channels[0], key="new-key")]
                           + list(state.channels[1:]), state.tokens)
    assert [(a.name, [c.field for c in a.changes]) for a in plan(client, rotated, fps).writes
            ] == [("lmi/c0", ["key"])]
    access.http.post("/api/channel/", json={"mode": "single", "channel": {
        "name": "lmi/c1", "type": 1, "key": "twin", "models": "x"}})
    p = plan(client, rotated, fps)
    assert [a.name for a in p.conflicts] == ["lmi/c1"]
    apply(client, p, local, fps)
    assert plan(client, rotated, fps).is_empty
