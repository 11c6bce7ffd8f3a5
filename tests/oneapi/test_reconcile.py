"""Desired state -> plan -> apply against the in-process emulator."""
import dataclasses
import os

import httpx
import pytest

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra.oneapi.errors import OneAPIAuthError, OneAPIInconsistentRead, OneAPIUnreachable
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import ApplyError, apply, plan

from .conftest import ACCESS

KEYS = ("upstream-secret-alpha-111", "upstream-secret-beta-222")


@pytest.fixture
def client(emu):
    with OneAPIClient(emu.url, ACCESS, retries=1, backoff=0.01) as c:
        yield c


@pytest.fixture
def local(tmp_path):
    return LocalState(str(tmp_path / "local"))


@pytest.fixture
def desired(upstream):
    return DesiredState(
        channels=[DesiredChannel("vllm-a", 50, upstream.url + "/v1", ("pub-a", "pub-b"),
                                 KEYS[0], {"pub-a": "real-a"}, priority=5, weight=2),
                  DesiredChannel("openai", 1, upstream.url, "gpt-4o, gpt-4o ", KEYS[1],
                                 groups=("default", "vip"))],
        tokens=[DesiredToken("web"), DesiredToken("batch", unlimited=False,
                                                  remain_quota=1000, models=("pub-a",),
                                                  subnet="127.0.0.0/8")])


@pytest.fixture
def unmanaged(api):
    api.post("/api/channel/", json={"name": "hand-made", "key": "handkey", "models": "x"})
    return api.post("/api/token/", json={"name": "hand-token"}).json()["data"]


def converge(client, desired, local, **kw):
    return apply(client, plan(client, desired, local, **kw), local)


def server(emu, table, prefix="lmi/"):
    with emu.store.lock:
        return {r["name"]: dict(r) for r in emu.store.table(table) if r["name"].startswith(prefix)}


def non_get(emu):
    return [r for r in emu.requests if r[0] != "GET"]


def test_apply_on_empty_gateway_creates_everything(emu, client, local, desired, unmanaged):
    p = plan(client, desired, local)
    assert [(a.kind, a.op) for a in p.writes] == [("channel", "create")] * 2 + [
        ("token", "create")] * 2
    result = apply(client, p, local)
    ch = server(emu, "channels")
    assert ch["lmi/vllm-a"]["key"] == KEYS[0] and ch["lmi/vllm-a"]["type"] == 50
    assert ch["lmi/vllm-a"]["model_mapping"] == '{"pub-a": "real-a"}'
    assert (ch["lmi/vllm-a"]["priority"], ch["lmi/vllm-a"]["weight"]) == (5, 2)
    assert ch["lmi/openai"]["models"] == "gpt-4o" and ch["lmi/openai"]["group"] == "default,vip"
    tok = server(emu, "tokens")
    assert tok["lmi/web"]["unlimited_quota"] and tok["lmi/web"]["expired_time"] == -1
    assert (tok["lmi/batch"]["remain_quota"], tok["lmi/batch"]["models"],
            tok["lmi/batch"]["subnet"]) == (1000, "pub-a", "127.0.0.0/8")
    secrets = local.read_secrets()
    assert secrets == {"LMI_TOKEN_WEB": "sk-" + tok["lmi/web"]["key"],
                       "LMI_TOKEN_BATCH": "sk-" + tok["lmi/batch"]["key"]}
    for path in (local.secrets_path, local.state_path, result.backup):
        assert os.stat(path).st_mode & 0o777 == 0o600
    # the relay really works with the captured token
    r = httpx.post(emu.url + "/v1/chat/completions", json={"model": "pub-a", "messages": [
        {"role": "user", "content": "x"}]}, headers={"Authorization": "Bearer " +
                                                     secrets["LMI_TOKEN_BATCH"]})
    assert r.json()["choices"][0]["message"]["content"] == "hello from real-a"


def test_second_apply_plans_nothing_and_sends_zero_writes(emu, client, local, desired):
    converge(client, desired, local)
    emu.clear_log()
    p = plan(client, desired, local)
    assert p.is_empty and "4 unchanged" in p.summary()
    result = apply(client, p, local)
    assert non_get(emu) == [] and result.backup is None


def test_changed_desired_state_sends_exactly_the_minimal_writes(emu, client, local, desired):
    converge(client, desired, local)
    with emu.store.lock:  # usage happened meanwhile: must not be overwritten
        emu.store.find("channels", name="lmi/vllm-a")["used_quota"] = 777
        emu.store.find("tokens", name="lmi/batch")["used_quota"] = 100
        emu.store.find("tokens", name="lmi/batch")["remain_quota"] = 900
    chans = list(desired.channels)
    chans[0] = dataclasses.replace(chans[0], priority=9)
    toks = list(desired.tokens)
    toks[1] = dataclasses.replace(toks[1], remain_quota=5000)
    changed = DesiredState(chans, toks)
    emu.clear_log()
    p = plan(client, changed, local)
    assert [(a.name, [c.field for c in a.changes]) for a in p.writes] == [
        ("lmi/vllm-a", ["priority"]), ("lmi/batch", ["remain_quota"])]
    apply(client, p, local)
    assert [(m, path) for m, path, _ in non_get(emu)] == [("PUT", "/api/channel/"),
                                                          ("PUT", "/api/token/")]
    ch, tok = server(emu, "channels")["lmi/vllm-a"], server(emu, "tokens")["lmi/batch"]
    assert ch["priority"] == 9 and ch["used_quota"] == 777 and ch["key"] == KEYS[0]
    assert tok["remain_quota"] == 4900 and tok["expired_time"] == -1  # budget minus used
    emu.clear_log()
    assert plan(client, changed, local).is_empty


def test_key_drift_detected_by_fingerprint_and_never_printed(emu, client, local, desired):
    converge(client, desired, local)
    rotated = DesiredState([dataclasses.replace(desired.channels[0], key="new-secret-value-9")]
                           + list(desired.channels[1:]), desired.tokens)
    p = plan(client, rotated, local)
    text = p.render_table()
    assert [(a.name, [c.field for c in a.changes]) for a in p.writes] == [
        ("lmi/vllm-a", ["key"])]
    tokens = server(emu, "tokens")
    for secret in (*KEYS, "new-secret-value-9", *(t["key"] for t in tokens.values())):
        assert secret not in text
    assert "******" in text
    apply(client, p, local)
    assert server(emu, "channels")["lmi/vllm-a"]["key"] == "new-secret-value-9"
    assert plan(client, rotated, local).is_empty


def test_lost_fingerprint_state_resends_key_once_then_converges(emu, client, tmp_path,
                                                                desired, local):
    converge(client, desired, local)
    fresh = LocalState(str(tmp_path / "fresh"))
    p = plan(client, desired, fresh)
    assert {c.field for a in p.writes for c in a.changes} == {"key"}
    apply(client, p, fresh)
    assert plan(client, desired, fresh).is_empty
    assert fresh.read_secrets() == local.read_secrets()  # captured from the listing


def test_prune_deletes_only_managed_and_only_when_asked(emu, client, local, desired,
                                                        unmanaged):
    converge(client, desired, local)
    smaller = DesiredState(desired.channels[:1], desired.tokens[:1])
    emu.clear_log()
    p = plan(client, smaller, local)
    assert p.is_empty and {a.op for a in p.actions} == {"unchanged", "orphan"}
    apply(client, p, local)
    assert non_get(emu) == []
    apply(client, plan(client, smaller, local, prune=True), local)
    assert set(server(emu, "channels")) == {"lmi/vllm-a"}
    assert set(server(emu, "tokens")) == {"lmi/web"}
    assert "hand-made" in server(emu, "channels", prefix="")
    assert {"hand-token", "Initial Root Token"} <= set(server(emu, "tokens", prefix=""))


def test_duplicate_managed_names_keep_highest_id(emu, api, client, local, desired):
    converge(client, desired, local)
    api.post("/api/channel/", json={"name": "lmi/openai", "key": "stray", "models": "q"})
    dup_id = max(c["id"] for c in api.get("/api/channel/").json()["data"])
    p = plan(client, desired, local)
    dels = [a for a in p.writes if a.op == "delete"]
    assert len(dels) == 1 and "duplicate" in dels[0].reason and dels[0].id < dup_id
    assert "keeping highest id" in p.render_table()
    apply(client, p, local)
    rows = [c for c in emu.store.table("channels") if c["name"] == "lmi/openai"]
    assert [r["id"] for r in rows] == [dup_id] and rows[0]["key"] == KEYS[1]
    assert rows[0]["models"] == "gpt-4o" and plan(client, desired, local).is_empty


@pytest.mark.parametrize("fault", ["fail_write=2", "drop_write=2", "lose_write=1",
                                   "lose_write=3", "fail_write=4"])
def test_faults_mid_apply_converge_on_next_apply(emu, client, local, desired, fault):
    converge(client, DesiredState(desired.channels[:1]), local)  # one existing channel
    changed = DesiredState([dataclasses.replace(desired.channels[0], priority=1)]
                           + list(desired.channels[1:]), desired.tokens)
    emu.set_faults(fault)
    with pytest.raises(ApplyError) as info:
        converge(client, changed, local)
    assert "\n" not in str(info.value) and "re-run" in str(info.value)
    emu.set_faults("")
    converge(client, changed, local)
    emu.clear_log()
    assert plan(client, changed, local).is_empty
    assert sorted(server(emu, "channels")) == ["lmi/openai", "lmi/vllm-a"]
    assert sorted(server(emu, "tokens")) == ["lmi/batch", "lmi/web"]
    assert len([c for c in emu.store.table("channels") if c["name"].startswith("lmi/")]) == 2
    tokens = server(emu, "tokens")
    assert local.read_secrets()["LMI_TOKEN_WEB"] == "sk-" + tokens["lmi/web"]["key"]


def test_short_or_failed_read_never_deletes(emu, client, local, desired):
    converge(client, desired, local)
    emu.set_faults("short_read=1")  # the paged channel list loses an item
    emu.clear_log()
    with pytest.raises(OneAPIInconsistentRead):
        plan(client, DesiredState(), local, prune=True)
    emu.set_faults("fail_read=3")  # token listing answers success:false
    with pytest.raises(Exception) as info:
        plan(client, DesiredState(), local, prune=True)
    assert "emulated fault" in str(info.value)
    assert non_get(emu) == [] and len(server(emu, "channels")) == 2
    emu.set_faults("drop_read=1")  # a dropped read is retried (reads only)
    assert plan(client, desired, local).is_empty


def test_wrong_token_or_unreachable_gateway_is_one_clear_error(emu, local, desired):
    with OneAPIClient(emu.url, "wrong-token") as bad:
        with pytest.raises(OneAPIAuthError) as info:
            plan(bad, desired, local)
    assert "access token" in str(info.value) and "\n" not in str(info.value)
    with OneAPIClient("http://127.0.0.1:9", ACCESS, retries=1, backoff=0.01) as gone:
        with pytest.raises(OneAPIUnreachable) as info:
            plan(gone, desired, local)
    assert str(info.value).startswith("cannot reach OneAPI at http://127.0.0.1:9")


def test_root_default_password_rotated_once(emu, client, local, desired):
    p = plan(client, desired, local, root_password="Sup3rSecretPw")
    assert p.actions[0].kind == "root" and p.actions[0].op == "update"
    assert "Sup3rSecretPw" not in p.render_table()
    apply(client, p, local)
    login = lambda pw: httpx.post(emu.url + "/api/user/login", json={  # noqa: E731
        "username": "root", "password": pw}).json()["success"]
    assert login("Sup3rSecretPw") and not login("123456")
    emu.clear_log()
    p = plan(client, desired, local, root_password="Sup3rSecretPw")
    assert p.is_empty and non_get(emu) == []  # no login probe once recorded


def test_disabled_declarations_and_status_only(emu, client, local, desired):
    off = DesiredState([dataclasses.replace(desired.channels[0], enabled=False)],
                       [dataclasses.replace(desired.tokens[0], enabled=False)])
    converge(client, off, local)
    assert server(emu, "channels")["lmi/vllm-a"]["status"] == 2
    assert server(emu, "tokens")["lmi/web"]["status"] == 2
    on = DesiredState(desired.channels[:1], desired.tokens[:1])
    emu.clear_log()
    converge(client, on, local)
    assert ("PUT", "/api/token/?status_only=true", 200) in emu.requests
    assert ("PUT", "/api/token/", 200) not in emu.requests  # nothing else changed
    assert server(emu, "tokens")["lmi/web"]["status"] == 1


def test_channel_tests_after_apply_report_a_table(emu, client, local, desired):
    dead = DesiredChannel("dead", 50, "http://127.0.0.1:9/v1", ("m",), "deadkey")
    state = DesiredState(list(desired.channels) + [dead], desired.tokens)
    result = apply(client, plan(client, state, local), local, test_channels=True)
    outcome = {t.name: t.success for t in result.tests}
    assert outcome == {"lmi/vllm-a": True, "lmi/openai": True, "lmi/dead": False}
    table = result.render_tests()
    assert "hello from real-a" in table and "FAIL" in table and KEYS[0] not in table


def test_desired_normalises_and_hides_the_key():
    # Validity is the model's job (tests/model/test_errors.py); desired objects only normalise.
    token = DesiredToken("t", models=("a, b", "a"), subnet=" 10.0.0.0/8 ,,192.0.2.0/24")
    assert (token.models, token.subnet) == (("a", "b"), "10.0.0.0/8,192.0.2.0/24")
    assert "hidden-key-value" not in repr(DesiredChannel("c", 50, "u", ("m",),
                                                         "hidden-key-value"))
