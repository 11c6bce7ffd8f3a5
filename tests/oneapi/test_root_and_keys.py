"""Root's password verified not assumed; token keys captured on every run; channel tests."""
import dataclasses
import threading
import time

import httpx
import pytest

from llminfra.oneapi.chantest import render_tests, run_tests, select
from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra.oneapi.keys import capture_keys
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import apply, plan
from llminfra.oneapi.registry import OPTION_KEY, Fingerprints, Registry
from llminfra.oneapi.rootpw import try_login

from .conftest import ACCESS

FPS = Fingerprints(ACCESS)
PW = "Sup3rSecretPw"
LOGIN = "/api/user/login"


@pytest.fixture
def client(emu):
    with OneAPIClient(emu.url, ACCESS, retries=1, backoff=0.01) as c:
        yield c


@pytest.fixture
def local(tmp_path):
    return LocalState(str(tmp_path / "local"))


def logins(emu):
    return [r for r in emu.requests if r[1] == LOGIN]


def login_ok(emu, pw):
    return httpx.post(emu.url + LOGIN, json={"username": "root", "password": pw}
                      ).json()["success"]


def root_op(p):
    return next(a for a in p.actions if a.kind == "root")


# -- root password -----------------------------------------------------------------------------
def test_plan_never_logs_in_and_apply_verifies_once(emu, client, local):
    p = plan(client, DesiredState(), FPS, root_password=PW)
    assert root_op(p).op == "verify" and not p.is_empty and logins(emu) == []
    assert PW not in p.render_table()
    result = apply(client, p, local, FPS)
    assert result.root_unknown == ""
    assert login_ok(emu, PW) and not login_ok(emu, "123456")
    assert Registry.decode(emu.store.option(OPTION_KEY)).root == FPS.root_password(PW)
    emu.clear_log()
    p = plan(client, DesiredState(), FPS, root_password=PW)
    assert root_op(p).op == "unchanged" and p.is_empty
    apply(client, p, local, FPS)
    assert logins(emu) == []  # verified once, from a definite answer: no more logins


def test_rate_limited_login_is_unknown_and_never_recorded(emu, client, local):
    emu.app.hits[("critical", "127.0.0.1")] = [time.time()] * 20  # the 21st login: HTTP 429
    result = apply(client, plan(client, DesiredState(), FPS, root_password=PW), local, FPS)
    assert "429" in result.root_unknown
    assert Registry.decode(emu.store.option(OPTION_KEY)).root == ""
    assert root_op(plan(client, DesiredState(), FPS, root_password=PW)).op == "verify"
    emu.app.hits.clear()
    result = apply(client, plan(client, DesiredState(), FPS, root_password=PW), local, FPS)
    assert result.root_unknown == "" and login_ok(emu, PW) and not login_ok(emu, "123456")


@pytest.mark.parametrize("fault", ["drop_write=1", "drop_write=2", "drop_write=4"])
def test_dropped_login_is_unknown_and_retried_next_apply(emu, client, local, fault):
    # logins: 1 new password, 2 default; (default works) set; 3 new, 4 default again
    emu.set_faults(fault)
    result = apply(client, plan(client, DesiredState(), FPS, root_password=PW), local, FPS)
    assert "login request failed" in result.root_unknown
    assert Registry.decode(emu.store.option(OPTION_KEY)).root == ""
    emu.set_faults("")
    result = apply(client, plan(client, DesiredState(), FPS, root_password=PW), local, FPS)
    assert result.root_unknown == "" and login_ok(emu, PW) and not login_ok(emu, "123456")


def test_changed_root_password_in_inventory_is_set_and_verified(emu, client, local):
    apply(client, plan(client, DesiredState(), FPS, root_password=PW), local, FPS)
    p = plan(client, DesiredState(), FPS, root_password="An0therPassword")
    assert root_op(p).op == "verify" and "changed in the inventory" in p.render_table()
    assert apply(client, p, local, FPS).root_unknown == ""
    assert login_ok(emu, "An0therPassword") and not login_ok(emu, PW)


@pytest.mark.parametrize("status,body,works", [
    (200, {"success": True, "data": {"username": "root", "id": 1}}, True),
    (200, {"success": False, "message": "wrong password"}, False),
    (429, b"", None),
    (500, {"success": False, "message": "oops"}, None),
    (200, b"<html>login page</html>", None),
    (200, {"success": True}, None),
    (200, {"success": False, "message": ""}, None),
    (200, {"ok": 1}, None),
])
def test_only_definite_login_answers_count(status, body, works):
    def handler(request):
        content = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
        return httpx.Response(status, content=content)
    assert try_login("http://gw", "x", transport=httpx.MockTransport(handler)).works is works


# -- token keys --------------------------------------------------------------------------------
def test_every_run_captures_missing_keys(emu, client, local, tmp_path):
    state = DesiredState(tokens=[DesiredToken("web"), DesiredToken("ci")])
    apply(client, plan(client, state, FPS), local, FPS)
    keys = local.read_secrets()
    other_machine = LocalState(str(tmp_path / "elsewhere"))
    emu.clear_log()
    p = plan(client, state, FPS)
    report = capture_keys(p, other_machine)  # a plan-only run, no writes
    assert p.is_empty and sorted(report.captured) == ["LMI_TOKEN_CI", "LMI_TOKEN_WEB"]
    assert other_machine.read_secrets() == keys and [r for r in emu.requests if r[0] != "GET"] == []
    assert capture_keys(plan(client, state, FPS), other_machine).captured == []


class MaskingClient:
    """A New-API-like view: token keys masked in listings."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _mask(self, rows):
        return [dict(r, key=r["key"][:4] + "**********" + r["key"][-4:]) for r in rows]

    def list_tokens(self):
        return self._mask(self.inner.list_tokens())

    def search_tokens(self, keyword):
        return self._mask(self.inner.search_tokens(keyword))


def test_hidden_keys_are_read_through_the_key_endpoint_or_reported(emu, client, local,
                                                                    tmp_path):
    state = DesiredState(tokens=[DesiredToken("web")])
    apply(client, plan(client, state, FPS), local, FPS)
    masked = MaskingClient(client)
    assert capture_keys(plan(masked, state, FPS), local).unrecoverable == []
    report = capture_keys(plan(masked, state, FPS), LocalState(str(tmp_path / "empty")))
    [line] = report.unrecoverable
    assert "lmi/web" in line and "hides it" in line and "LMI_TOKEN_WEB" in line
    assert local.read_secrets()["LMI_TOKEN_WEB"][3:] not in line
    elsewhere = LocalState(str(tmp_path / "elsewhere"))
    report = capture_keys(plan(masked, state, FPS), elsewhere, masked)  # one key-endpoint call
    assert report.captured == ["LMI_TOKEN_WEB"] and report.unrecoverable == []
    assert elsewhere.read_secrets() == local.read_secrets()


# -- channel tests -----------------------------------------------------------------------------
def test_default_tests_only_what_changed_and_skips_billed(emu, client, local, upstream):
    chans = [DesiredChannel(f"c{i}", 50, upstream.url + "/v1", (f"m{i}",), f"key-{i}")
             for i in range(3)]
    chans.append(DesiredChannel("paid", 1, upstream.url, ("gpt-4o",), "sk-paid", billed=True))
    state = DesiredState(chans)
    p = plan(client, state, FPS)
    result = apply(client, p, local, FPS)
    tests = run_tests(client, select(p, result, "changed"))
    assert {t.name: t.outcome for t in tests} == {"lmi/c0": "ok", "lmi/c1": "ok",
                                                  "lmi/c2": "ok", "lmi/paid": "skipped"}
    assert "--test-billed" in render_tests(tests)
    changed = DesiredState([dataclasses.replace(chans[0], priority=4)] + chans[1:])
    p = plan(client, changed, FPS)
    result = apply(client, p, local, FPS)
    assert [t.name for t in run_tests(client, select(p, result, "changed"))] == ["lmi/c0"]
    assert len(run_tests(client, select(p, result, "all"))) == 4
    assert run_tests(client, select(p, result, "none")) == []
    billed = run_tests(client, select(p, result, "all"), billed=True)
    assert {t.outcome for t in billed} == {"ok"}


def test_tests_run_with_bounded_concurrency():
    lock, state = threading.Lock(), {"now": 0, "max": 0}
    # 12 tests in groups of 3 that wait for each other: fewer at once breaks the barrier (its
    # timeout, not a stopwatch, decides: a busy host starts threads late, not never)
    together = threading.Barrier(3, timeout=60)

    class Slow:
        def test_channel(self, cid, model=None, timeout=60.0):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            together.wait()
            time.sleep(0.05)
            with lock:
                state["now"] -= 1
            return {"success": cid % 2 == 0, "message": "m", "time": 0.05}

    targets = [(DesiredChannel(f"c{i}", 50, "u", ("m",), "k"), i) for i in range(12)]
    tests = run_tests(Slow(), targets, concurrency=3)
    assert state["max"] == 3
    assert [t.failed for t in tests] == [i % 2 == 1 for i in range(12)]


def test_embedding_channels_are_not_chat_tested():
    class Never:
        def test_channel(self, cid, model=None, timeout=60.0):
            raise AssertionError("no test expected")

    targets = [(DesiredChannel("emb", 50, "u", ("e",), "k", chat=False), 1),
               (DesiredChannel("paid-emb", 1, "u", ("e",), "k", chat=False, billed=True), 2)]
    tests = run_tests(Never(), targets, billed=True)
    assert [(t.name, t.outcome) for t in tests] == [("lmi/emb", "skipped"),
                                                    ("lmi/paid-emb", "skipped")]
    assert "embeddings" in render_tests(tests)
