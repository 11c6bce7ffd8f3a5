"""OneAPIClient with flavor="newapi" against the emulator's New-API mode (docs/gateway-contract.md §10)."""
import pytest

from llminfra.oneapi.client import OneAPIClient, login_for_access
from llminfra.oneapi.errors import OneAPIAuthError
from llminfra.oneapi.flavor import is_masked

from .newapi_helpers import ROOT_PASSWORD, set_up


@pytest.fixture
def client(newemu):
    set_up(newemu.url)
    creds = login_for_access(newemu.url, "root", ROOT_PASSWORD, flavor="new-api")
    with OneAPIClient(newemu.url, creds.access_token, flavor="newapi", user_id=creds.user_id,
                      backoff=0.01) as c:
        yield c


def test_login_gives_the_token_and_the_user_id(newemu):
    set_up(newemu.url)
    creds = login_for_access(newemu.url, "root", ROOT_PASSWORD, flavor="newapi")
    assert creds.user_id == 1 and len(creds.access_token) == 32
    with pytest.raises(OneAPIAuthError, match="login as root failed"):
        login_for_access(newemu.url, "root", "wrong-password", flavor="newapi")
    with OneAPIClient(newemu.url, creds.access_token, flavor="newapi", user_id=2) as wrong, \
            pytest.raises(OneAPIAuthError, match="New-Api-User"):
        wrong.get_self()


def test_setup_through_the_client(newemu):
    with OneAPIClient(newemu.url, "unused", flavor="newapi") as c:
        assert c.setup_status()["status"] is False
        c.setup("root", ROOT_PASSWORD)
        assert c.setup_status()["status"] is True


def test_pages_are_one_based_hundreds_until_the_total(newemu, client):
    for i in range(150):
        client.create_channel({"name": f"c{i}", "type": 1, "key": "k", "models": "m"})
    newemu.clear_log()
    assert len(client.list_channels()) == 150
    assert [p for _, p, _ in newemu.requests] == [
        "/api/channel/?p=1&page_size=100", "/api/channel/?p=2&page_size=100"]


def test_channel_create_is_wrapped_and_found_by_prefix_search(newemu, client):
    client.create_channel({"name": "lmi/a", "type": 1, "key": "k\r", "models": "m"})
    client.create_channel({"name": "x-lmi/b", "type": 1, "key": "k", "models": "m"})
    names = sorted(c["name"] for c in client.search_channels("lmi/"))
    assert "lmi/a" in names  # a superset is allowed; callers filter exact names
    [row] = [c for c in client.list_channels() if c["name"] == "lmi/a"]
    assert row["key"] == ""
    stored = client.update_channel({"id": row["id"], "priority": 3})
    assert stored["priority"] == 3


def test_token_create_finds_the_token_and_reads_its_key(newemu, client):
    created = client.create_token({"name": "lmi/app", "expired_time": -1, "remain_quota": 0,
                                   "unlimited_quota": True, "models": "m1,m2",
                                   "subnet": "10.0.0.0/8,127.0.0.1/32"})
    assert len(created["key"]) == 48 and "*" not in created["key"]
    assert created["models"] == "m1,m2" and created["subnet"] == "10.0.0.0/8,127.0.0.1/32"
    paths = [p for m, p, _ in newemu.requests if m == "POST"]
    assert paths[-2:] == ["/api/token/", "/api/token/batch/keys"]
    [listed] = client.list_tokens()
    assert is_masked(listed["key"]) and listed["key"].endswith(created["key"][-4:])
    assert client.token_keys([listed["id"]]) == {listed["id"]: created["key"]}
    assert [t["name"] for t in client.search_tokens("lmi/")] == ["lmi/app"]
    disabled = client.set_token_status(created["id"], 2)
    assert disabled["status"] == 2 and is_masked(disabled["key"])


def test_exact_name_lookup_survives_the_search_rate_limit(newemu, client):
    for i in range(12):
        assert client.create_token({"name": f"t{i}", "unlimited_quota": True})["name"] \
            == f"t{i}"
    assert any(s == 429 for _, _, s in newemu.requests)  # the listing took over
    newemu.clear_log()
    assert [t["name"] for t in client.find_tokens_named("t3")] == ["t3"]


def test_key_reads_batch_a_hundred_ids_per_call(newemu, client):
    for i in range(3):
        client.create_token({"name": f"k{i}", "unlimited_quota": True})
    ids = [t["id"] for t in client.list_tokens()]
    newemu.clear_log()
    assert sorted(client.token_keys(ids + [999])) == sorted(ids)
    assert [p for _, p, _ in newemu.requests] == ["/api/token/batch/keys"]


def test_a_search_limit_is_not_waited_out(newemu, client):
    client.create_token({"name": "lmi/a", "unlimited_quota": True})  # one search
    for _ in range(9):  # the other nine of the minute
        client.search_tokens("lmi/")
    newemu.clear_log()
    assert [t["name"] for t in client.search_tokens("lmi/")] == ["lmi/a"]
    assert [(p.split("?")[0], s) for _, p, s in newemu.requests] == [
        ("/api/token/search", 429), ("/api/token/", 200)]
    newemu.clear_log()
    client.search_tokens("lmi/")  # the rest of the minute: straight to the listing
    assert [p.split("?")[0] for _, p, _ in newemu.requests] == ["/api/token/"]
