"""OneAPI's Compose project on the gateway."""

import yaml
from render_helpers import SECRETS, make_stack

from llminfra.render import render_oneapi_compose, render_oneapi_secrets


def load(stack):
    f = render_oneapi_compose(stack, "gw-1")
    return f, yaml.safe_load(f.content)


def test_admin_port_on_loopback_by_default(prod):
    f, doc = load(prod)
    assert f.path_on_host == "/opt/llminfra/oneapi/compose.yaml"
    assert doc["services"]["oneapi"]["ports"] == ["127.0.0.1:3000:3000"]
    assert doc["services"]["oneapi"]["image"] == "justsong/one-api:v0.6.10"


def test_network_has_the_fixed_subnet_tunnels_listen_on(data):
    data["gateways"]["gw-1"]["oneapi"]["network_subnet"] = "172.31.5.0/24"
    _, doc = load(make_stack(data))
    net = doc["networks"]["oneapi"]
    assert net["ipam"]["config"] == [{"subnet": "172.31.5.0/24", "gateway": "172.31.5.1"}]
    assert doc["services"]["oneapi"]["networks"] == ["oneapi"]


def test_sqlite_by_default_data_on_data_dir(prod):
    _, doc = load(prod)
    oneapi = doc["services"]["oneapi"]
    assert set(doc["services"]) == {"oneapi"}
    assert "/opt/llminfra/oneapi/data:/data" in oneapi["volumes"]
    assert "/api/status" in oneapi["healthcheck"]["test"][1]
    assert oneapi["restart"] == "unless-stopped" and oneapi["environment"]["TZ"] == "UTC"


def test_mysql_and_redis(data):
    data["gateways"]["gw-1"]["oneapi"].update(
        database="mysql", mysql={"password": "MYSQL_PW"}, redis=True, sync_frequency=30)
    stack = make_stack(data)
    f, doc = load(stack)
    oneapi = doc["services"]["oneapi"]
    assert oneapi["environment"]["SYNC_FREQUENCY"] == "30"
    assert oneapi["environment"]["REDIS_CONN_STRING"] == "redis://redis:6379"
    assert oneapi["depends_on"]["mysql"] == {"condition": "service_healthy"}
    assert doc["services"]["mysql"]["env_file"] == ["mysql.secrets.env"]
    assert SECRETS["MYSQL_PW"] not in f.content
    files = {s.path_on_host.rsplit("/", 1)[1]: s for s in render_oneapi_secrets(stack, "gw-1")}
    assert {s.mode for s in files.values()} == {"0600"} and all(s.secret for s in files.values())
    assert f"SQL_DSN='root:{SECRETS['MYSQL_PW']}@tcp(mysql:3306)/oneapi'" in files["secrets.env"].content
    assert files["mysql.secrets.env"].content.endswith(f"MYSQL_ROOT_PASSWORD='{SECRETS['MYSQL_PW']}'\n")


def test_secrets_only_in_the_env_file(prod):
    f, _ = load(prod)
    [sec] = render_oneapi_secrets(prod, "gw-1")
    for name in ("ONEAPI_SESSION_SECRET", "ONEAPI_ROOT_ACCESS_TOKEN"):
        assert SECRETS[name] not in f.content and SECRETS[name] in sec.content
    assert sec.content.splitlines()[1:] == [
        f"SESSION_SECRET='{SECRETS['ONEAPI_SESSION_SECRET']}'",
        f"INITIAL_ROOT_ACCESS_TOKEN='{SECRETS['ONEAPI_ROOT_ACCESS_TOKEN']}'"]
