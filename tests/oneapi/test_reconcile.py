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
from llminfra.oneapi.registry import OPTION_KEY, Fingerprints, Registry

from .conftest import ACCESS

KEYS = ("upstream-secret-alpha-111", "upstream-secret-beta-222")
FPS = Fingerprints(ACCESS)


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
    return apply(client, plan(client, desired, FPS, **kw), local, FPS)


def server(emu, table, prefix="lmi/"):
    with emu.store.lock:
        return {r["name"]: dict(r) for r in emu.store.table(table) if r["name"].startswith(prefix)}


def rows(emu, table, name):
    with emu.store.lock:
        return [dict(r) for r in emu.store.table(table) if r["name"] == name]


def non_get(emu):
    return [r for r in emu.requests if r[0] != "GET"]


def object_writes(emu):
    return [r[:2] for r in emu.writes() if not r[1].startswith("/api/option/")]


def registry(emu):
    return Registry.decode(emu.store.option(OPTION_KEY))


def test_apply_on_empty_gateway_creates_everything(emu, client, local, desired, unmanaged):
    p = plan(client, desired, FPS)
    assert [(a.kind, a.op) for a in p.writes] == [("channel", "create")] * 2 + [
        ("token", "create")] * 2
    emu.clear_log()
    result = apply(client, p, local, FPS)
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
    for path in (local.secrets_path, result.backup):
        assert os.stat(path).st_mode & 0o777 == 0o600
    # the registry: names go in before the creates, owned ids after; nothing pending at the end
    assert [w[:2] for w in emu.writes()][0] == ("PUT", "/api/option/")
    assert [w[:2] for w in emu.writes()][-1] == ("PUT", "/api/option/")
    reg = registry(emu)
    assert set(reg.channels) == {c["id"] for c in ch.values()} and not reg.pending
    assert set(reg.tokens) == {t["id"] for t in tok.values()}
    assert KEYS[0] not in emu.store.option(OPTION_KEY)
    # the relay really works with the captured token
    r = httpx.post(emu.url + "/v1/chat/completions", json={"model": "pub-a", "messages": [
        {"role": "user", "content": "x"}]}, headers={"Authorization": "Bearer " +
                                                     secrets["LMI_TOKEN_BATCH"]})
    assert r.json()["choices"][0]["message"]["content"] == "hello from real-a"


def test_second_apply_plans_nothing_and_sends_zero_writes(emu, client, local, desired):
    converge(client, desired, local)
    emu.clear_log()
    p = plan(client, desired, FPS)
    assert p.is_empty and "4 unchanged" in p.summary()
    result = apply(client, p, local, FPS)
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
    p = plan(client, changed, FPS)
    assert [(a.name, [c.field for c in a.changes]) for a in p.writes] == [
        ("lmi/vllm-a", ["priority"]), ("lmi/batch", ["remain_quota"])]
    apply(client, p, local, FPS)
    assert [(m, path) for m, path, _ in non_get(emu)] == [("PUT", "/api/channel/"),
                                                          ("PUT", "/api/token/")]
    ch, tok = server(emu, "channels")["lmi/vllm-a"], server(emu, "tokens")["lmi/batch"]
    assert ch["priority"] == 9 and ch["used_quota"] == 777 and ch["key"] == KEYS[0]
    assert tok["remain_quota"] == 4900 and tok["expired_time"] == -1  # budget minus used
    assert plan(client, changed, FPS).is_empty


def test_key_drift_detected_by_fingerprint_and_never_printed(emu, client, local, desired):
    converge(client, desired, local)
    rotated = DesiredState([dataclasses.replace(desired.channels[0], key="new-secret-value-9")]
                           + list(desired.channels[1:]), desired.tokens)
    p = plan(client, rotated, FPS)
    text = p.render_table()
    assert [(a.name, [c.field for c in a.changes]) for a in p.writes] == [
        ("lmi/vllm-a", ["key"])]
    tokens = server(emu, "tokens")
    for secret in (*KEYS, "new-secret-value-9", *(t["key"] for t in tokens.values())):
        assert secret not in text
    assert "******" in text
    apply(client, p, local, FPS)
    assert server(emu, "channels")["lmi/vllm-a"]["key"] == "new-secret-value-9"
    assert plan(client, rotated, FPS).is_empty


def test_fresh_clone_plans_empty_and_still_sees_a_changed_key(emu, client, tmp_path, desired,
                                                              local):
    converge(client, desired, local)
    emu.clear_log()
    fresh = LocalState(str(tmp_path / "another-machine"))  # no local state at all
    p = plan(client, desired, Fingerprints(ACCESS))
    assert p.is_empty and not p.conflicts
    rotated = DesiredState([desired.channels[0], dataclasses.replace(desired.channels[1],
                                                                      key="rotated-key-42")],
                           desired.tokens)
    p = plan(client, rotated, Fingerprints(ACCESS))
    assert [(a.name, [(c.field, c.note) for c in a.changes]) for a in p.writes] == [
        ("lmi/openai", [("key", "changed")])]
    apply(client, p, fresh, FPS)
    assert object_writes(emu) == [("PUT", "/api/channel/")]
    assert fresh.read_secrets() == {}  # apply captured nothing new; a plan run captures
    assert plan(client, rotated, FPS).is_empty


def test_undeclared_channels_go_tokens_only_on_prune(emu, client, local, desired, unmanaged):
    converge(client, desired, local)
    smaller = DesiredState(desired.channels[:1], desired.tokens[:1])
    emu.clear_log()
    p = plan(client, smaller, FPS)
    assert {(a.kind, a.op) for a in p.actions if a.op != "unchanged"} == {
        ("channel", "delete"), ("token", "orphan")}
    apply(client, p, local, FPS)
    assert set(server(emu, "channels")) == {"lmi/vllm-a"}
    assert len(server(emu, "tokens")) == len(desired.tokens)  # kept without prune
    apply(client, plan(client, smaller, FPS, prune=True), local, FPS)
    assert set(server(emu, "channels")) == {"lmi/vllm-a"}
    assert set(server(emu, "tokens")) == {"lmi/web"}
    assert "hand-made" in server(emu, "channels", prefix="")
    assert {"hand-token", "Initial Root Token"} <= set(server(emu, "tokens", prefix=""))


def test_rename_creates_before_it_deletes(emu, client, local, desired):
    converge(client, desired, local)
    renamed = DesiredState([desired.channels[0], dataclasses.replace(desired.channels[1],
                                                                      name="openai-2")],
                           desired.tokens)
    emu.set_faults("fail_write=2")  # 1: registry (pending name), 2: the create
    with pytest.raises(ApplyError):  # no prune needed: the old channel is not declared
        converge(client, renamed, local)
    assert "lmi/openai" in server(emu, "channels")  # the model keeps its channel
    emu.set_faults("")
    emu.clear_log()
    converge(client, renamed, local)
    assert [w[0] for w in object_writes(emu)] == ["POST", "DELETE"]
    assert set(server(emu, "channels")) == {"lmi/vllm-a", "lmi/openai-2"}


def test_hand_made_twins_survive_and_stop_only_their_object(emu, api, client, local, desired):
    converge(client, desired, local)
    ours = server(emu, "channels")["lmi/openai"]["id"]
    api.post("/api/channel/", json={"name": "lmi/openai", "key": "stray", "models": "q"})
    token_key = local.read_secrets()["LMI_TOKEN_WEB"]
    api.post("/api/token/", json={"name": "lmi/web"})
    changed = DesiredState([dataclasses.replace(desired.channels[0], priority=7),
                            dataclasses.replace(desired.channels[1], priority=7)],
                           desired.tokens)
    for prune in (False, True):
        p = plan(client, changed, FPS, prune=prune)
        conflicts = {a.name: a.reason for a in p.conflicts}
        assert set(conflicts) == {"lmi/openai", "lmi/web"}
        assert f"llminfra's is id {ours}" in conflicts["lmi/openai"]
        assert [(a.name, a.op) for a in p.writes] == [("lmi/vllm-a", "update")] * (not prune)
        apply(client, p, local, FPS)
    assert len(rows(emu, "channels", "lmi/openai")) == 2
    assert len(rows(emu, "tokens", "lmi/web")) == 2
    assert server(emu, "channels")["lmi/vllm-a"]["priority"] == 7  # the others proceed
    assert local.read_secrets()["LMI_TOKEN_WEB"] == token_key  # never the twin's key
    assert "lmi/openai" in "\n".join(p.notices())


def test_pre_existing_object_needs_adopt(emu, api, client, local, desired):
    api.post("/api/channel/", json={"name": "lmi/openai", "type": 1, "key": "old",
                                    "models": "gpt-4o"})
    p = plan(client, desired, FPS)
    [conflict] = p.conflicts
    assert conflict.name == "lmi/openai" and "--adopt" in conflict.reason
    apply(client, p, local, FPS)
    assert rows(emu, "channels", "lmi/openai")[0]["key"] == "old"  # untouched
    p = plan(client, desired, FPS, adopt=True)
    adopted = next(a for a in p.writes if a.name == "lmi/openai")
    assert [c.field for c in adopted.changes][:1] == ["owner"]
    assert "key" in [c.field for c in adopted.changes]
    apply(client, p, local, FPS)
    assert rows(emu, "channels", "lmi/openai")[0]["key"] == KEYS[1]
    assert plan(client, desired, FPS).is_empty


@pytest.mark.parametrize("fault", ["fail_write=2", "drop_write=2", "lose_write=1",
                                   "lose_write=2", "lose_write=3", "fail_write=5",
                                   "lose_write=6"])
def test_faults_mid_apply_converge_on_next_apply(emu, client, local, desired, fault):
    converge(client, DesiredState(desired.channels[:1]), local)  # one existing channel
    changed = DesiredState([dataclasses.replace(desired.channels[0], priority=1)]
                           + list(desired.channels[1:]), desired.tokens)
    # writes: 1 registry (pending names), 2 create channel, 3 create token web,
    # 4 create token batch, 5 update channel, 6 registry (owned ids)
    emu.set_faults(fault)
    try:
        converge(client, changed, local)
    except ApplyError as exc:
        assert "\n" not in str(exc) and "re-run" in str(exc)
    emu.set_faults("")
    p = plan(client, changed, FPS)
    assert not p.conflicts  # a lost create answer is still recognised as ours
    apply(client, p, local, FPS)
    emu.clear_log()
    assert plan(client, changed, FPS).is_empty
    assert sorted(server(emu, "channels")) == ["lmi/openai", "lmi/vllm-a"]
    assert sorted(server(emu, "tokens")) == ["lmi/batch", "lmi/web"]
    assert len([c for c in emu.store.table("channels") if c["name"].startswith("lmi/")]) == 2
    tokens = server(emu, "tokens")
    assert local.read_secrets()["LMI_TOKEN_WEB"] == "sk-" + tokens["lmi/web"]["key"]
    assert not registry(emu).pending


def test_short_or_failed_read_never_deletes(emu, client, local, desired):
    converge(client, desired, local)
    emu.set_faults("short_read=1")  # the paged channel list loses an item
    emu.clear_log()
    with pytest.raises(OneAPIInconsistentRead):
        plan(client, DesiredState(), FPS, prune=True)
    emu.set_faults("fail_read=3")  # token listing answers success:false
    with pytest.raises(Exception) as info:
        plan(client, DesiredState(), FPS, prune=True)
    assert "emulated fault" in str(info.value)
    emu.set_faults("fail_read=5")  # the registry cannot be read: no plan at all
    with pytest.raises(Exception) as info:
        plan(client, DesiredState(), FPS, prune=True)
    assert non_get(emu) == [] and len(server(emu, "channels")) == 2
    emu.set_faults("drop_read=1")  # a dropped read is retried (reads only)
    assert plan(client, desired, FPS).is_empty


def test_wrong_token_or_unreachable_gateway_is_one_clear_error(emu, desired):
    with OneAPIClient(emu.url, "wrong-token") as bad:
        with pytest.raises(OneAPIAuthError) as info:
            plan(bad, desired, FPS)
    assert "access token" in str(info.value) and "\n" not in str(info.value)
    with OneAPIClient("http://127.0.0.1:9", ACCESS, retries=1, backoff=0.01) as gone:
        with pytest.raises(OneAPIUnreachable) as info:
            plan(gone, desired, FPS)
    assert str(info.value).startswith("cannot reach OneAPI at http://127.0.0.1:9")


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


def test_channel_the_gateway_disabled_is_reported_and_reenabled_only_when_asked(
        emu, client, local, desired):
    converge(client, desired, local)
    with emu.store.lock:
        emu.store.find("channels", name="lmi/openai")["status"] = 3
    emu.clear_log()
    p = plan(client, desired, FPS)
    assert p.is_empty and "1 disabled by the gateway" in p.summary()
    assert any("lmi/openai" in n and "--reenable" in n for n in p.notices())
    changed = DesiredState([desired.channels[0], dataclasses.replace(desired.channels[1],
                                                                      priority=3)],
                           desired.tokens)
    apply(client, plan(client, changed, FPS), local, FPS)
    assert server(emu, "channels")["lmi/openai"]["status"] == 3  # an update keeps it off
    p = plan(client, changed, FPS, reenable=True)
    assert [(a.name, [c.field for c in a.changes]) for a in p.writes] == [
        ("lmi/openai", ["status"])]
    apply(client, p, local, FPS)
    assert server(emu, "channels")["lmi/openai"]["status"] == 1


def test_desired_normalises_and_hides_the_key():
    # Validity is the model's job (tests/model/test_errors.py); desired objects only normalise.
    token = DesiredToken("t", models=("a, b", "a"), subnet=" 10.0.0.0/8 ,,192.0.2.0/24")
    assert (token.models, token.subnet) == (("a", "b"), "10.0.0.0/8,192.0.2.0/24")
    assert "hidden-key-value" not in repr(DesiredChannel("c", 50, "u", ("m",),
                                                         "hidden-key-value"))


def test_two_operators_applying_at_once_keep_each_others_ownership(emu, client, local,
                                                                   desired, tmp_path):
    mine = DesiredState(desired.channels[:1], desired.tokens[:1])
    theirs = DesiredState(desired.channels, desired.tokens)
    p_mine = plan(client, mine, FPS)  # planned first, applied last
    apply(client, plan(client, theirs, FPS), LocalState(str(tmp_path / "theirs")), FPS)
    apply(client, p_mine, local, FPS)  # its creates of the same names now meet twins
    p = plan(client, theirs, FPS)
    owned = {a.name for a in p.actions if a.op in ("unchanged", "update")}
    assert {"lmi/openai", "lmi/batch"} <= owned  # the other operator's objects stay theirs
    assert {a.name for a in p.conflicts} == {"lmi/vllm-a", "lmi/web"}  # real twins, reported
