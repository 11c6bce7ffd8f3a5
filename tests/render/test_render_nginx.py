"""Gateway and relay Nginx configs: accepted by Debian's nginx, and safe by construction."""

import re
import subprocess

import pytest
from render_helpers import SECRETS, certs_for, make_stack, nginx_conf, require

from llminfra.render import render_all, render_gateway_nginx, render_relay_nginx, tls


@pytest.fixture
def tls_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tls, "TLS_DIR", str(tmp_path / "tls"))
    monkeypatch.setattr(tls, "ACME_LIVE", str(tmp_path / "live"))
    return tmp_path


def nginx_t(content: str, tmp, root=None) -> subprocess.CompletedProcess:
    tmp.mkdir(exist_ok=True)
    site = tmp / "site.conf"
    site.write_text(content)
    certs_for(content, tmp, root or tmp)
    conf = nginx_conf(tmp, site)
    return subprocess.run([require("nginx", "/usr/sbin/nginx"), "-t", "-q", "-c", str(conf),
                           "-p", str(tmp)], capture_output=True, text=True)


def test_every_nginx_config_passes_nginx_t(variant, tls_in_tmp):
    checked = 0
    for host, files in render_all(variant).items():
        for f in files:
            if f.path_on_host.startswith("/etc/nginx/"):
                result = nginx_t(f.content, tls_in_tmp / host, tls_in_tmp)
                assert result.returncode == 0, f"{host} {f.path_on_host}: {result.stderr}"
                checked += 1
    assert checked == 2


def test_nginx_t_catches_a_broken_config(prod, tls_in_tmp):
    """The check above can fail: a config with a typo is refused."""
    content = render_gateway_nginx(prod, "gw-1").content.replace("proxy_buffering off", "proxy_bufering off")
    assert nginx_t(content, tls_in_tmp).returncode != 0


def location_block(content: str, start: str) -> str:
    i = content.index(start)
    return content[i:content.index("\n    }\n", i)]


def test_gateway_is_stream_safe_with_the_model_timeout(data):
    data["gateways"]["gw-1"]["nginx"].update(read_timeout=3600, client_max_body_size="200m")
    f = render_gateway_nginx(make_stack(data), "gw-1")
    assert (f.path_on_host, f.mode, f.secret) == ("/etc/nginx/conf.d/llminfra-gateway.conf", "0644", False)
    loc = location_block(f.content, 'location ~ "^/v1/(')
    for line in ("proxy_pass http://127.0.0.1:3000;", "proxy_buffering off;",
                 "proxy_request_buffering off;", "proxy_http_version 1.1;",
                 'proxy_set_header Connection "";', "proxy_cache off;", "gzip off;",
                 "proxy_read_timeout 3600s;", "proxy_send_timeout 3600s;",
                 "proxy_set_header X-Forwarded-For $remote_addr;",
                 "proxy_set_header X-Real-IP $remote_addr;"):
        assert f"        {line}\n" in loc + "\n", line
    assert "client_max_body_size 200m;" in f.content
    assert "return 301 https://api.example.com$request_uri;" in f.content
    # nothing but the client API is published by default
    assert "    location / {\n        return 404;\n    }" in f.content
    assert f.content.count("proxy_pass") == 1


def test_gateway_tls_modes(data):
    f = render_gateway_nginx(make_stack(data), "gw-1")  # acme
    assert "ssl_certificate /etc/letsencrypt/live/api.example.com/fullchain.pem;" in f.content
    assert "location /.well-known/acme-challenge/ {\n        root /var/www/llminfra-acme;" in f.content
    data["gateways"]["gw-1"]["nginx"]["tls"] = {"mode": "self_signed"}
    f = render_gateway_nginx(make_stack(data), "gw-1")
    assert "ssl_certificate /etc/llminfra/tls/api.example.com.crt;" in f.content
    assert "acme-challenge" not in f.content


def test_no_secret_outside_secret_files(variant):
    for files in render_all(variant).values():
        for f in files:
            if not f.secret:
                leaked = [k for k, v in SECRETS.items() if v in f.content]
                assert not leaked, f"{f.path_on_host} holds {leaked}"
            else:
                assert f.mode == "0600"


def test_relay_strips_client_identity_and_verifies_upstream(prod):
    f = render_relay_nginx(prod, "relay-1")
    assert (f.path_on_host, f.mode, f.secret) == ("/etc/nginx/conf.d/llminfra-relay.conf", "0600", True)
    loc = location_block(f.content, "location /claude/ {")
    for line in ('proxy_set_header X-Forwarded-For "";', 'proxy_set_header X-Real-IP "";',
                 'proxy_set_header Forwarded "";', 'proxy_set_header X-Relay-Key "";',
                 "proxy_ssl_verify on;", "proxy_ssl_server_name on;",
                 "proxy_ssl_name api.anthropic.com;", "proxy_set_header Host api.anthropic.com;",
                 "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
                 "set $llminfra_up_claude api.anthropic.com;",
                 "proxy_pass https://$llminfra_up_claude;", "rewrite ^/claude/(.*)$ /$1 break;",
                 "proxy_buffering off;", "proxy_read_timeout 1800s;"):
        assert f"        {line}\n" in loc + "\n", line
    assert "resolver 1.1.1.1 8.8.8.8 valid=30s ipv6=off;" in f.content
    assert f'    "{SECRETS["RELAY_SHARED_SECRET"]}" 1;' in f.content
    assert "    192.0.2.5/32 1;" in f.content
    assert "listen 443 ssl default_server;\n    ssl_reject_handshake on;" in f.content


def test_relay_keeps_provider_connections_when_asked(data, tls_in_tmp):
    """upstream_keepalive: one pool per provider, proxy_pass to it, no per-request resolving."""
    relay = data["relays"]["relay-1"]
    relay["upstream_keepalive"] = 16
    relay["providers"][0]["upstream"] = "localhost:8443"  # a name nginx -t can resolve here
    relay["providers"][2]["upstream"] = "localhost"
    content = render_relay_nginx(make_stack(data), "relay-1").content
    head = content[:content.index("# Unknown names")]
    assert head.endswith(
        "# Connections to the providers are kept for the next request (upstream_keepalive): their\n"
        "# addresses are resolved when Nginx loads this file, not per request.\n"
        "upstream llminfra_relay_openai {\n    server localhost:8443;\n    keepalive 16;\n}\n\n"
        "upstream llminfra_relay_claude {\n    server api.anthropic.com:443;\n    keepalive 16;\n}\n\n"
        "upstream llminfra_relay_gemini {\n    server localhost:443;\n    keepalive 16;\n}\n\n")
    loc = location_block(content, "location /openai/ {")
    for line in ("rewrite ^/openai/(.*)$ /$1 break;", "proxy_pass https://llminfra_relay_openai;",
                 "proxy_ssl_name localhost;", "proxy_set_header Host localhost:8443;",
                 "proxy_ssl_verify on;", "proxy_http_version 1.1;", 'proxy_set_header Connection "";'):
        assert f"        {line}\n" in loc + "\n", line
    assert "resolver" not in content and "set $llminfra_up_" not in content
    relay["providers"][1]["upstream"] = "localhost:8444"  # nginx -t resolves every pool's server
    result = nginx_t(render_relay_nginx(make_stack(data), "relay-1").content, tls_in_tmp)
    assert result.returncode == 0, result.stderr


def test_relay_fronts_deepseek_from_its_table_row(data, tls_in_tmp):
    data["relays"]["relay-1"]["providers"].append({"kind": "deepseek"})
    content = render_relay_nginx(make_stack(data), "relay-1").content
    loc = location_block(content, "location /deepseek/ {")
    for line in ("set $llminfra_up_deepseek api.deepseek.com;", "rewrite ^/deepseek/(.*)$ /$1 break;",
                 "proxy_pass https://$llminfra_up_deepseek;", "proxy_ssl_name api.deepseek.com;",
                 "proxy_set_header Host api.deepseek.com;", "proxy_ssl_verify on;"):
        assert f"        {line}\n" in loc + "\n", line
    result = nginx_t(content, tls_in_tmp)
    assert result.returncode == 0, result.stderr


def test_relay_host_routing_has_one_server_per_provider(data):
    relay = data["relays"]["relay-1"]
    relay["routing"] = "host"
    for p in relay["providers"]:
        p["server_name"] = f"{p['kind']}.example.com"
    content = render_relay_nginx(make_stack(data), "relay-1").content
    names = re.findall(r"^    server_name (\S+);", content, re.M)
    assert names == ["openai.example.com", "claude.example.com", "gemini.example.com"]
    assert "rewrite" not in content
    assert "ssl_certificate /etc/letsencrypt/live/gemini.example.com/fullchain.pem;" in content
