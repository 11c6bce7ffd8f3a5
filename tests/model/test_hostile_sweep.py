"""Second adversarial sweep of the model, by category: invisible Unicode in free text, ports
written in non-ASCII digits, option-shaped words after a flag, token and channel names that
collide once upper-cased or case-folded, and integers beyond what the gateways, Nginx, Docker
or vLLM store. Each input is refused with one exact `host: path: message` line.
"""

import pytest

from llminfra.model import StackError, parse_stack


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


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_one_exact_line(base, secrets, mutate, expected):
    mutate(base)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert expected in info.value.lines


def test_plain_unicode_and_spaced_token_names_still_pass(base, secrets):
    base["tokens"] = [{"name": "web app"}, {"name": "ci.bot@team-2"}]
    svc(base)["env"] = {"GREETING": "grüß dich"}  # printable non-ASCII is fine in free text
    svc(base)["extra_args"] = ["--chat-template-content-format=openai"]
    parse_stack(base, environ=secrets)
