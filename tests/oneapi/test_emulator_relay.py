"""Emulator relay pinned to the contract (docs/gateway-contract.md §4.1.3, §4.5, §7, §8) with a real
loopback upstream."""
import json
import socket
import threading
import time

import httpx

from .conftest import RELAY_KEY, add_channel

AUTH = {"Authorization": f"Bearer sk-{RELAY_KEY}"}
CHAT = {"model": "pub", "messages": [{"role": "user", "content": "hi"}]}


def chat(emu, body=CHAT, headers=AUTH, path="/v1/chat/completions"):
    return httpx.post(emu.url + path, json=body, headers=headers, timeout=10)


def test_s7_relay_auth_missing_unknown_and_lowercase_bearer(emu):
    assert chat(emu, headers={}).status_code == 401
    assert chat(emu, headers={"Authorization": "Bearer sk-unknown"}).status_code == 401
    lower = chat(emu, headers={"Authorization": f"bearer sk-{RELAY_KEY}"})
    assert lower.status_code == 401 and lower.json()["error"]["type"] == "one_api_error"


def test_s7_expired_token_401_subnet_403_model_limit_403(emu, api, upstream):
    add_channel(api, base_url=upstream.url + "/v1", models="pub")
    exp = api.post("/api/token/", json={"name": "old", "expired_time": 1}).json()["data"]
    assert chat(emu, headers={"Authorization": f"Bearer sk-{exp['key']}"}).status_code == 401
    net = api.post("/api/token/", json={"name": "net", "subnet": "10.9.0.0/16",
                                        "unlimited_quota": True}).json()["data"]
    assert chat(emu, headers={"Authorization": f"Bearer sk-{net['key']}"}).status_code == 403
    lim = api.post("/api/token/", json={"name": "lim", "models": "other",
                                        "unlimited_quota": True}).json()["data"]
    assert chat(emu, headers={"Authorization": f"Bearer sk-{lim['key']}"}).status_code == 403
    assert upstream.seen == []


def test_s8_2_picks_max_priority_and_skips_disabled(emu, api, upstream):
    add_channel(api, name="low", base_url=upstream.url + "/v1", models="pub", priority=1,
                key="lowkey")
    add_channel(api, name="off", base_url=upstream.url + "/v1", models="pub", priority=9,
                key="offkey", status=2)
    add_channel(api, name="high", base_url=upstream.url + "/v1", models="pub", priority=5,
                key="highkey")
    for _ in range(5):
        assert chat(emu).status_code == 200
    assert {s["auth"] for s in upstream.seen} == {"Bearer highkey"}


def test_s8_2_random_among_ties_and_group_filter(emu, api, upstream):
    for key in ("k1", "k2"):
        add_channel(api, name=key, base_url=upstream.url + "/v1", models="pub", key=key)
    add_channel(api, name="vip", base_url=upstream.url + "/v1", models="pub", key="vipkey",
                group="vip", priority=100)
    for _ in range(30):
        chat(emu)
    assert {s["auth"] for s in upstream.seen} == {"Bearer k1", "Bearer k2"}


def test_s8_2_no_channel_is_503(emu):
    r = chat(emu, body=dict(CHAT, model="nobody"))
    assert r.status_code == 503 and "nobody" in r.json()["error"]["message"]


def test_s8_3_model_mapping_rewrites_upstream_body_type_50_url(emu, api, upstream):
    add_channel(api, base_url=upstream.url + "/v1", models="pub",
                model_mapping='{"pub": "real-model"}')
    r = chat(emu)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == \
        "hello from real-model"
    assert upstream.seen[0]["path"] == "/v1/chat/completions"
    assert upstream.seen[0]["body"]["model"] == "real-model"


def test_s8_forwarding_types_1_and_8_append_v1_and_completions(emu, api, upstream):
    add_channel(api, name="openai", type=1, base_url=upstream.url, models="a")
    add_channel(api, name="custom", type=8, base_url=upstream.url, models="b")
    assert chat(emu, body=dict(CHAT, model="a")).status_code == 200
    r = chat(emu, body={"model": "b", "prompt": "x"}, path="/v1/completions")
    assert r.json()["choices"][0]["text"] == "completed by b"
    assert [s["path"] for s in upstream.seen] == ["/v1/chat/completions", "/v1/completions"]


def test_s8_4_upstream_error_status_passed_through(emu, api, upstream):
    add_channel(api, base_url=upstream.url + "/v1", models="fail-401,fail-429")
    r = chat(emu, body=dict(CHAT, model="fail-401"))
    assert r.status_code == 401
    assert r.json()["error"]["message"].startswith("upstream says 401 (request id: ")
    assert chat(emu, body=dict(CHAT, model="fail-429")).status_code == 429


def test_s8_5_stream_is_forwarded_chunk_by_chunk(emu, api, upstream):
    add_channel(api, base_url=upstream.url + "/v1", models="pub",
                model_mapping='{"pub": "real"}')
    arrivals, events = [], []
    upstream.gate = threading.Event()  # the upstream holds the rest until we have the first
    start = time.monotonic()
    with httpx.stream("POST", emu.url + "/v1/chat/completions", headers=AUTH, timeout=10,
                      json=dict(CHAT, stream=True)) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic() - start)
                events.append(line[6:])
                upstream.gate.set()
    assert events[-1] == "[DONE]" and len(events) == 4  # the empty chunk was dropped
    assert [json.loads(e)["choices"][0]["delta"]["content"] for e in events[:3]] == \
        ["part0", "part1", "part2"]
    # the first event came through while the upstream still held the others back (a causal
    # check, not a stopwatch one: a busy host delays events, it does not reorder them), and
    # the upstream's 0.4 s pauses after it kept the last one apart
    assert upstream.gate_opened is True
    assert arrivals[2] - arrivals[0] > 0.6
    body = upstream.seen[0]["body"]
    assert body["model"] == "real" and body["stream_options"] == {"include_usage": True}


def test_s4_5_v1_models_lists_group_models_or_token_models(emu, api):
    add_channel(api, models="zeta,gpt-4o")
    add_channel(api, name="hidden", models="secret-model", status=2)
    ids = [m["id"] for m in httpx.get(emu.url + "/v1/models", headers=AUTH).json()["data"]]
    assert ids == ["gpt-4o", "zeta"]
    lim = api.post("/api/token/", json={"name": "l", "models": "zeta",
                                        "unlimited_quota": True}).json()["data"]
    only = httpx.get(emu.url + "/v1/models", headers={"Authorization": f"Bearer sk-{lim['key']}"})
    assert [m["id"] for m in only.json()["data"]] == ["zeta"]
    assert only.json()["data"][0]["owned_by"] == "custom"


def test_s4_1_3_channel_test_success_and_failure(emu, api, upstream):
    good = add_channel(api, name="good", base_url=upstream.url + "/v1", models="m1,m2",
                       model_mapping='{"m2": "m2-real"}')
    r = api.get(f"/api/channel/test/{good}", params={"model": "m2"}).json()
    assert r["success"] is True and r["message"] == "hello from m2-real"
    # seconds at millisecond resolution, as OneAPI reports it: a local upstream answering
    # in under half a millisecond (kept connection) is 0.0
    assert r["modelName"] == "m2" and isinstance(r["time"], float | int) and 0 <= r["time"] < 5
    assert upstream.seen[-1]["body"]["model"] == "m2-real"
    dead = add_channel(api, name="dead", base_url="http://127.0.0.1:9/v1", models="m1")
    r = api.get(f"/api/channel/test/{dead}").json()
    assert r["success"] is False and r["time"] == 0
    assert api.get(f"/api/channel/{good}").json()["data"]["test_time"] > 0


def test_s8_1_embeddings_relayed_to_the_channel_byte_for_byte(emu, api, upstream):
    add_channel(api, name="embed", type=8, base_url=upstream.url, models="minilm")
    r = chat(emu, body={"model": "minilm", "input": ["a", "b"]}, path="/v1/embeddings")
    assert r.status_code == 200
    assert r.json()["data"][0]["embedding"] == [0.25, -0.5]
    assert upstream.seen == [{"path": "/v1/embeddings", "auth": upstream.seen[0]["auth"],
                              "body": {"model": "minilm", "input": ["a", "b"]}}]
    assert chat(emu, body={"input": "x"}, path="/v1/embeddings").status_code == 400
    assert chat(emu, body={"model": "minilm", "input": "x"}, path="/v1/embeddings",
                headers={}).status_code == 401


def test_upstream_connection_is_kept_alive_and_a_dropped_one_replaced(emu, api, upstream):
    """OneAPI's Go client reuses its upstream connections; so does the emulator, or fifty
    streams would measure its handshakes instead of the hop."""
    add_channel(api, base_url=upstream.url + "/v1", models="pub")
    accepted = []
    finish = upstream.finish_request

    def counting(sock, address):
        accepted.append(sock)
        finish(sock, address)

    upstream.finish_request = counting
    for _ in range(3):
        assert chat(emu).status_code == 200
    with httpx.stream("POST", emu.url + "/v1/chat/completions", headers=AUTH, timeout=10,
                      json=dict(CHAT, stream=True)) as r:
        assert r.read().endswith(b"data: [DONE]\n\n")
    assert len(accepted) == 1
    accepted[0].shutdown(socket.SHUT_RDWR)  # the upstream drops the idle connection
    r = chat(emu)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "hello from pub"
    assert len(accepted) == 2 and len(upstream.seen) == 5
