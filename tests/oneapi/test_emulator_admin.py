"""Emulator pinned to the admin contract, section by section (docs/gateway-contract.md §2-§4)."""
import httpx

from llminfra_lab.oneapi_emulator import Emulator

from .conftest import ACCESS, add_channel


def test_s2_status_needs_no_auth_and_reports_success(emu):
    body = httpx.get(emu.url + "/api/status").json()
    assert body["success"] is True and body["data"]["quota_per_unit"] == 500000
    assert '"success":true' in httpx.get(emu.url + "/api/status").text


def test_s2_first_boot_creates_root_123456_and_initial_token(emu, api):
    login = httpx.post(emu.url + "/api/user/login",
                       json={"username": "root", "password": "123456"}).json()
    assert login["success"] and login["data"]["role"] == 100
    assert login["data"]["access_token"] == "" and login["data"]["quota"] == 0
    token = api.get("/api/token/1").json()["data"]
    assert token["name"] == "Initial Root Token" and token["expired_time"] == -1
    assert token["unlimited_quota"] is True


def test_s2_state_survives_restart_and_bootstrap_runs_once(tmp_path):
    path = str(tmp_path / "state.json")
    with Emulator(path, env={"INITIAL_ROOT_ACCESS_TOKEN": ACCESS}) as e:
        h = {"Authorization": ACCESS}
        httpx.post(e.url + "/api/channel/", headers=h, json={"name": "keep", "key": "k"})
        httpx.put(e.url + "/api/user/self", headers=h, json={"password": "newpassword1"})
    with Emulator(path, env={"INITIAL_ROOT_ACCESS_TOKEN": "other-token-ignored"}) as e:
        data = httpx.get(e.url + "/api/channel/", headers={"Authorization": ACCESS}).json()
        assert [c["name"] for c in data["data"]] == ["keep"]
        assert not httpx.post(e.url + "/api/user/login", json={
            "username": "root", "password": "123456"}).json()["success"]
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600


def test_s3_1_login_sets_session_cookie_that_authenticates(emu):
    with httpx.Client(base_url=emu.url) as http:
        r = http.post("/api/user/login", json={"username": "root", "password": "123456"})
        assert "session=" in r.headers["set-cookie"]
        assert http.get("/api/user/self").json()["data"]["username"] == "root"
        assert http.get("/api/user/logout").json()["success"]
        assert http.get("/api/user/self").status_code == 401


def test_s3_1_login_failures_are_200_success_false(emu):
    bad = httpx.post(emu.url + "/api/user/login", json={"username": "root", "password": "x"})
    assert bad.status_code == 200 and bad.json()["success"] is False
    empty = httpx.post(emu.url + "/api/user/login", json={"username": ""})
    assert empty.json() == {"success": False, "message": "invalid parameter"}


def test_s3_1_login_rate_limit_20_per_window(emu):
    codes = [httpx.post(emu.url + "/api/user/login", json={"username": "a", "password": "b"})
             .status_code for _ in range(21)]
    assert codes[:20] == [200] * 20 and codes[20] == 429


def test_s3_2_access_token_rotation_replaces_previous(emu, api):
    new = api.get("/api/user/token").json()["data"]
    assert len(new) == 32 and new != ACCESS
    assert api.get("/api/user/self").json()["success"] is False  # old token now invalid
    ok = httpx.get(emu.url + "/api/user/self", headers={"Authorization": f"Bearer {new}"})
    assert ok.json()["data"]["access_token"] == ""


def test_s3_3_auth_middleware_table(emu):
    none = httpx.get(emu.url + "/api/channel/")
    assert none.status_code == 401 and none.json()["success"] is False
    wrong = httpx.get(emu.url + "/api/channel/", headers={"Authorization": "nope"})
    assert wrong.status_code == 200
    assert wrong.json()["message"] == "无权进行此操作，access token 无效"
    lower = httpx.get(emu.url + "/api/channel/", headers={"Authorization": "bearer " + ACCESS})
    assert lower.json()["success"] is False  # only "Bearer " with capital B is stripped


def test_s3_4_trailing_slash_redirects_and_unknown_paths(api):
    get = api.get("/api/channel")
    assert get.status_code == 301 and get.headers["location"] == "/api/channel/"
    post = api.post("/api/token", json={})
    assert post.status_code == 307 and post.headers["location"] == "/api/token/"
    assert api.get("/api/channel/?p=0").status_code == 200
    missing = api.get("/api/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (GET /api/nothing)"


def test_s3_4_go_json_type_mismatch_is_success_false(api):
    body = api.post("/api/channel/", json={"name": "x", "key": "k", "type": "1"}).json()
    assert body["success"] is False and "cannot unmarshal string" in body["message"]


def test_s4_1_list_is_0_based_pages_of_10_id_desc_without_key(api):
    for i in range(23):
        api.post("/api/channel/", json={"name": f"c{i}", "key": f"secret{i}"})
    pages = [api.get("/api/channel/", params={"p": p}).json()["data"] for p in range(3)]
    assert [len(p) for p in pages] == [10, 10, 3]
    ids = [c["id"] for p in pages for c in p]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 23
    assert all(c["key"] == "" for p in pages for c in p)


def test_s4_1_search_prefix_id_and_empty_keyword(api):
    a = add_channel(api, name="lmi/a")
    add_channel(api, name="other")
    names = lambda kw: sorted(c["name"] for c in api.get(  # noqa: E731
        "/api/channel/search", params={"keyword": kw}).json()["data"])
    assert names("lmi/") == ["lmi/a"]
    assert names("") == ["lmi/a", "other"]
    assert names(str(a)) == ["lmi/a"]
    assert names("_mi") == ["lmi/a"]  # `_` is a live LIKE wildcard


def test_s4_1_get_blanks_key_and_missing_is_record_not_found(api):
    cid = add_channel(api, key="verysecret")
    assert api.get(f"/api/channel/{cid}").json()["data"]["key"] == ""
    assert api.get("/api/channel/999").json() == {"success": False,
                                                   "message": "record not found"}


def test_s4_1_1_create_returns_no_id_fans_out_on_newline_names_not_unique(api):
    r = api.post("/api/channel/", json={"name": "dup", "key": "k1\nk2\n", "models": "m"})
    assert r.json() == {"success": True, "message": ""}
    api.post("/api/channel/", json={"name": "dup", "key": "k3"})
    rows = api.get("/api/channel/search", params={"keyword": "dup"}).json()["data"]
    assert len(rows) == 3 and {r["group"] for r in rows} == {"default"}
    assert {r["status"] for r in rows} == {1}


def test_s4_1_2_partial_update_skips_zero_fields_applies_pointers(api):
    cid = add_channel(api, name="p", models="a,b", priority=5, weight=3, key="orig",
                      model_mapping='{"a":"x"}')
    r = api.put("/api/channel/", json={"id": cid, "name": "", "models": "", "key": "",
                                       "priority": 0, "model_mapping": "", "status": 0})
    data = r.json()["data"]
    assert data["name"] == "p" and data["models"] == "a,b" and data["status"] == 1
    assert data["priority"] == 0 and data["model_mapping"] == ""  # pointers applied
    assert data["key"] == "orig" and data["weight"] == 3  # PUT answer has the full key


def test_s4_1_2_update_without_id_and_with_unknown_id(api):
    assert api.put("/api/channel/", json={"name": "x"}).json() == {
        "success": False, "message": "WHERE conditions required"}
    ghost = api.put("/api/channel/", json={"id": 4242, "name": "ghost"}).json()
    assert ghost["success"] is True and ghost["data"]["name"] == "ghost"
    assert api.get("/api/channel/4242").json()["success"] is False


def test_s4_1_delete_is_idempotent_and_delete_disabled_counts(api):
    cid = add_channel(api)
    assert api.delete(f"/api/channel/{cid}").json()["success"]
    assert api.delete(f"/api/channel/{cid}").json()["success"]
    add_channel(api, name="off", status=2)
    add_channel(api, name="on")
    assert api.delete("/api/channel/disabled").json()["data"] == 1
    assert [c["name"] for c in api.get("/api/channel/").json()["data"]] == ["on"]


def test_s4_1_duplicate_groups_break_abilities(api):
    r = api.post("/api/channel/", json={"name": "g", "key": "k", "group": "default,default"})
    assert r.json()["success"] is False


def test_s4_2_token_create_returns_key_and_defaults(api):
    data = api.post("/api/token/", json={"name": "t", "remain_quota": 5}).json()["data"]
    assert len(data["key"]) == 48 and data["key"].isalnum()
    assert data["expired_time"] == -1 and data["status"] == 1 and data["id"] > 1
    listed = api.get("/api/token/").json()["data"]
    assert data["key"] in [t["key"] for t in listed]  # lists carry full keys


def test_s4_2_token_validation_name_bytes_and_subnet(api):
    assert not api.post("/api/token/", json={"name": "x" * 31}).json()["success"]
    assert api.post("/api/token/", json={"name": "é" * 15}).json()["success"]  # 30 bytes
    assert not api.post("/api/token/", json={"name": "s", "subnet": "nope"}).json()["success"]


def test_s4_2_token_update_is_full_overwrite(api):
    t = api.post("/api/token/", json={"name": "full", "models": "m1", "subnet": "10.0.0.0/8",
                                      "unlimited_quota": True}).json()["data"]
    data = api.put("/api/token/", json={"id": t["id"], "name": "full"}).json()["data"]
    assert data["expired_time"] == 0 and data["unlimited_quota"] is False
    assert data["models"] is None and data["subnet"] is None


def test_s4_2_status_only_and_reenable_refused_when_expired(emu, api):
    t = api.post("/api/token/", json={"name": "st"}).json()["data"]
    r = api.put("/api/token/", params={"status_only": "true"},
                json={"id": t["id"], "status": 2, "name": "ignored"}).json()["data"]
    assert r["status"] == 2 and r["name"] == "st"
    with emu.store.lock:
        row = emu.store.find("tokens", id=t["id"])
        row.update(status=3, expired_time=1)
    refused = api.put("/api/token/", params={"status_only": "1"}, json={"id": t["id"],
                                                                      "status": 1})
    assert refused.json()["success"] is False


def test_s4_2_token_delete_not_idempotent_and_search_prefix(api):
    t = api.post("/api/token/", json={"name": "lmi/x"}).json()["data"]
    assert [x["id"] for x in api.get("/api/token/search", params={"keyword": "lmi/"})
            .json()["data"]] == [t["id"]]
    assert api.delete(f"/api/token/{t['id']}").json()["success"]
    assert api.delete(f"/api/token/{t['id']}").json() == {"success": False,
                                                            "message": "record not found"}


def test_s4_3_self_password_change_keeps_access_token(emu, api):
    assert not api.put("/api/user/self", json={"password": "short"}).json()["success"]
    assert api.put("/api/user/self", json={"password": "longenough1"}).json()["success"]
    assert api.get("/api/user/self").json()["success"]
    login = lambda pw: httpx.post(emu.url + "/api/user/login", json={  # noqa: E731
        "username": "root", "password": pw}).json()["success"]
    assert login("longenough1") and not login("123456")


def test_s4_4_options_hide_secrets_and_require_string_values(api):
    keys = {o["key"] for o in api.get("/api/option/").json()["data"]}
    assert "RetryTimes" in keys and "SMTPToken" not in keys
    bad = api.put("/api/option/", json={"key": "RetryTimes", "value": 3})
    assert bad.status_code == 400
    assert api.put("/api/option/", json={"key": "RetryTimes", "value": "3"}).json()["success"]
    values = {o["key"]: o["value"] for o in api.get("/api/option/").json()["data"]}
    assert values["RetryTimes"] == "3"
    assert sorted(api.get("/api/group/").json()["data"]) == ["default", "svip", "vip"]
