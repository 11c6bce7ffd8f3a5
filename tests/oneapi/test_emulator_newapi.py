"""Emulator in New-API mode, pinned to docs/gateway-contract.md §10 rule by rule."""
import httpx
import pytest
from llminfra_lab.oneapi_emulator import Emulator

from .conftest import ACCESS
from .newapi_helpers import ROOT_PASSWORD, add_channel, admin, set_up


def post_setup(url, **fields):
    body = {"username": "root", "password": ROOT_PASSWORD, "confirmPassword": ROOT_PASSWORD,
            "SelfUseModeEnabled": False, "DemoSiteEnabled": False}
    body.update(fields)
    return httpx.post(url + "/api/setup", json=body).json()


def test_s10_1_fresh_install_has_no_root_until_setup_and_setup_runs_once(newemu):
    url = newemu.url
    assert httpx.get(url + "/api/setup").json()["data"] == {
        "status": False, "root_init": False, "database_type": "sqlite"}
    login = httpx.post(url + "/api/user/login", json={"username": "root", "password": "123456"})
    assert login.json()["success"] is False  # no default root/123456
    bootstrap = httpx.get(url + "/api/channel/", headers={"Authorization": ACCESS,
                                                           "New-Api-User": "1"})
    assert bootstrap.json()["success"] is False  # INITIAL_ROOT_ACCESS_TOKEN is not honoured
    assert post_setup(url, username="x" * 13)["message"] == "用户名长度不能超过12个字符"
    assert post_setup(url, confirmPassword="other")["message"] == "两次输入的密码不一致"
    assert post_setup(url, password="short", confirmPassword="short")["message"] \
        == "密码长度至少为8个字符"
    assert post_setup(url) == {"success": True, "message": "系统初始化成功"}
    assert post_setup(url) == {"success": False, "message": "系统已经初始化完成"}
    assert httpx.get(url + "/api/setup").json()["data"]["status"] is True
    root = admin(url).http.get("/api/user/self").json()["data"]
    assert (root["role"], root["quota"], root["username"]) == (100, 100000000, "root")


def test_s10_1_setup_state_survives_a_restart(tmp_path):
    path = str(tmp_path / "state.json")
    with Emulator(path, flavor="newapi") as first:
        set_up(first.url)
    with Emulator(path, flavor="newapi") as again:
        assert httpx.get(again.url + "/api/setup").json()["data"]["status"] is True
        assert admin(again.url).http.get("/api/user/self").json()["success"]


def test_s10_2_every_admin_call_names_its_user_in_new_api_user(newemu):
    set_up(newemu.url)
    root = admin(newemu.url)
    bearer = {"Authorization": f"Bearer {root.token}"}
    cases = {None: "无权进行此操作，未提供 New-Api-User",
             "one": "无权进行此操作，New-Api-User 格式错误",
             "2": "无权进行此操作，New-Api-User 与登录用户不匹配"}
    for header, message in cases.items():
        extra = {"New-Api-User": header} if header else {}
        resp = httpx.get(newemu.url + "/api/channel/", headers={**bearer, **extra})
        assert (resp.status_code, resp.json()["message"]) == (401, message)
    assert root.http.get("/api/channel/").json()["success"] is True
    # the session cookie needs the header just as much
    with httpx.Client(base_url=newemu.url) as web:
        web.post("/api/user/login", json={"username": "root", "password": ROOT_PASSWORD})
        assert web.get("/api/user/self").status_code == 401
        assert web.get("/api/user/self", headers={"New-Api-User": str(root.user_id)}
                       ).json()["success"]
    no_auth = httpx.get(newemu.url + "/api/channel/", headers={"New-Api-User": "1"})
    assert no_auth.status_code == 401


def test_s10_4_channel_create_is_wrapped_and_single_keeps_the_key_whole(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    flat = http.post("/api/channel/", json={"name": "flat", "key": "k", "models": "m"}).json()
    assert flat == {"success": False, "message": "不支持的添加模式"}
    empty = http.post("/api/channel/", json={"mode": "single", "channel": {"name": "e"}}).json()
    assert empty["success"] is False
    cid = add_channel(http, name="single", key="a\nb")
    assert http.get(f"/api/channel/{cid}").json()["data"]["key"] == ""
    batch = http.post("/api/channel/", json={"mode": "batch", "channel": {
        "name": "fan", "type": 1, "key": "x\ny", "models": "m"}}).json()
    assert batch == {"success": True, "message": ""}  # no data, no ids
    names = [c["name"] for c in http.get("/api/channel/").json()["data"]["items"]]
    assert sorted(names) == ["fan", "fan", "single"]


def test_s10_3_lists_are_one_based_pages_with_totals_and_priority_order(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    for i in range(12):
        add_channel(http, name=f"c{i}", priority=i % 3)
    first = http.get("/api/channel/", params={"p": 1}).json()["data"]
    assert (first["total"], first["page"], first["page_size"]) == (12, 1, 10)
    assert len(first["items"]) == 10 and first["type_counts"] == {"1": 12}
    assert [c["priority"] for c in first["items"]][:4] == [2, 2, 2, 2]
    assert http.get("/api/channel/", params={"p": 0}).json()["data"]["items"] == first["items"]
    second = http.get("/api/channel/", params={"p": 2}).json()["data"]["items"]
    assert len(second) == 2
    big = http.get("/api/channel/", params={"p": 1, "page_size": 500}).json()["data"]
    assert big["page_size"] == 100 and len(big["items"]) == 12
    by_id = http.get("/api/channel/", params={"id_sort": "true", "ps": 3}).json()["data"]
    assert [c["id"] for c in by_id["items"]] == [12, 11, 10]


def test_s10_4_channel_search_matches_substrings_and_update_blanks_the_key(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    cid = add_channel(http, name="team/lmi/x", base_url="http://a.example")
    add_channel(http, name="other")
    found = http.get("/api/channel/search", params={"keyword": "lmi/"}).json()["data"]
    assert [c["id"] for c in found["items"]] == [cid] and found["total"] == 1
    assert found["items"][0]["key"] == ""
    by_url = http.get("/api/channel/search", params={"keyword": "a.example"}).json()["data"]
    assert [c["id"] for c in by_url["items"]] == [cid]
    stored = http.put("/api/channel/", json={"id": cid, "priority": 5, "key": "new"}).json()
    assert stored["data"]["key"] == "" and stored["data"]["priority"] == 5
    assert stored["data"]["auto_ban"] == 1 and "config" not in stored["data"]


def test_s10_6_token_create_returns_nothing_and_reads_mask_the_key(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    answer = http.post("/api/token/", json={
        "name": "lmi/app", "expired_time": -1, "unlimited_quota": True,
        "model_limits_enabled": True, "model_limits": "m1", "allow_ips": "10.0.0.0/8"}).json()
    assert answer == {"success": True, "message": ""}
    [row] = http.get("/api/token/", params={"p": 1}).json()["data"]["items"]
    assert row["key"][:4] + "**********" + row["key"][-4:] == row["key"]
    assert (row["model_limits"], row["allow_ips"], row["status"]) == ("m1", "10.0.0.0/8", 1)
    assert http.get(f"/api/token/{row['id']}").json()["data"]["key"] == row["key"]
    plain = http.post(f"/api/token/{row['id']}/key").json()["data"]["key"]
    assert len(plain) == 48 and "*" not in plain
    keys = http.post("/api/token/batch/keys", json={"ids": [row["id"], 999]}).json()
    assert keys["data"] == {"keys": {str(row["id"]): plain}}
    assert http.post("/api/token/batch/keys", json={"ids": list(range(101))}
                     ).json()["success"] is False
    long_name = http.post("/api/token/", json={"name": "n" * 51}).json()
    negative = http.post("/api/token/", json={"name": "neg", "remain_quota": -1}).json()
    assert long_name["success"] is False and negative["success"] is False


def test_s10_6_token_search_is_exact_without_wildcards(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    for name in ("lmi/app", "lmi/app2", "x_lmi/app"):
        http.post("/api/token/", json={"name": name, "unlimited_quota": True})

    def search(keyword):
        answer = http.get("/api/token/search", params={"keyword": keyword}).json()
        return sorted(t["name"] for t in answer["data"]["items"]) if answer["success"] \
            else answer["message"]

    assert search("lmi/app") == ["lmi/app"]
    assert search("lmi/") == []
    assert search("lmi/%") == ["lmi/app", "lmi/app2"]
    assert search("x_lmi%") == ["x_lmi/app"] and search("xalmi%") == []  # "_" is literal
    assert search("%a%b%") == "搜索模式中最多允许包含 2 个 % 通配符"
    assert search("a%") == "使用模糊搜索时，关键词长度至少为 2 个字符"


def test_s10_6_key_reads_share_the_login_budget_and_searches_are_limited(newemu):
    set_up(newemu.url)
    root = admin(newemu.url)  # one login
    http = root.http
    http.post("/api/token/", json={"name": "t", "unlimited_quota": True})
    tid = http.get("/api/token/").json()["data"]["items"][0]["id"]
    codes = [http.post(f"/api/token/{tid}/key").status_code for _ in range(20)]
    assert codes == [200] * 19 + [429]
    assert httpx.post(newemu.url + "/api/user/login", json={
        "username": "root", "password": ROOT_PASSWORD}).status_code == 429
    searches = [http.get("/api/token/search", params={"keyword": "t"}).status_code
                for _ in range(11)]
    assert searches == [200] * 10 + [429]
    assert http.get("/api/token/").status_code == 200  # listing is not limited


def test_s10_6_token_update_overwrites_and_status_only_flips_status(newemu):
    set_up(newemu.url)
    http = admin(newemu.url).http
    http.post("/api/token/", json={"name": "t", "unlimited_quota": True,
                                   "model_limits_enabled": True, "model_limits": "a"})
    tid = http.get("/api/token/").json()["data"]["items"][0]["id"]
    data = http.put("/api/token/", json={"id": tid, "name": "t"}).json()["data"]
    assert (data["model_limits_enabled"], data["expired_time"], data["unlimited_quota"]) \
        == (False, 0, False)
    assert "*" in data["key"]
    off = http.put("/api/token/", params={"status_only": "true"},
                   json={"id": tid, "status": 2}).json()["data"]
    assert off["status"] == 2 and off["name"] == "t"


def test_s10_6_relay_honours_model_limits_allow_ips_and_soft_delete(newemu, upstream):
    set_up(newemu.url)
    http = admin(newemu.url).http
    add_channel(http, name="up", type=1, base_url=upstream.url, models="m1,m2")
    for name, extra in (("ok", {}), ("m2only", {"model_limits_enabled": True,
                                                 "model_limits": "m2"}),
                        ("far", {"allow_ips": "192.0.2.0/24"})):
        http.post("/api/token/", json={"name": name, "unlimited_quota": True, **extra})
    tokens = http.get("/api/token/").json()["data"]["items"]
    keys = {t["name"]: http.post(f"/api/token/{t['id']}/key").json()["data"]["key"]
            for t in tokens}

    def chat(name, model="m1"):
        return httpx.post(newemu.url + "/v1/chat/completions", headers={
            "Authorization": f"Bearer sk-{keys[name]}"}, json={
            "model": model, "messages": [{"role": "user", "content": "hi"}]})

    ok = chat("ok")
    assert ok.status_code == 200 and upstream.seen[-1]["path"] == "/v1/chat/completions"
    assert chat("m2only").status_code == 403 and chat("m2only", "m2").status_code == 200
    assert chat("far").status_code == 403
    tid = next(t["id"] for t in tokens if t["name"] == "ok")
    assert http.delete(f"/api/token/{tid}").json()["success"]
    assert chat("ok").status_code == 401
    assert http.delete(f"/api/token/{tid}").json()["success"] is False


def test_s10_4_channel_test_prefers_test_model_and_has_no_model_name(newemu, upstream):
    set_up(newemu.url)
    http = admin(newemu.url).http
    cid = add_channel(http, name="t", base_url=upstream.url, models="a,b", test_model="b")
    answer = http.get(f"/api/channel/test/{cid}").json()
    assert answer["success"] is True and answer["message"] == "" and "modelName" not in answer
    assert upstream.seen[-1]["body"]["model"] == "b"


@pytest.mark.parametrize("value,stored", [(True, "true"), (3, "3"), ("x", "x")])
def test_s10_7_options_take_any_json_scalar(newemu, value, stored):
    set_up(newemu.url)
    http = admin(newemu.url).http
    assert http.put("/api/option/", json={"key": "RetryTimes", "value": value}
                    ).json()["success"]
    options = {o["key"]: o["value"] for o in http.get("/api/option/").json()["data"]}
    assert options["RetryTimes"] == stored
