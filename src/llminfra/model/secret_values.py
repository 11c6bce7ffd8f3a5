"""Rules on secret *values*, each one table: placeholders left over from an example file, and
the strength of the secrets the kit itself relies on for access control (README: "Secret
values"). Messages name the secret and the field using it, never the value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import line
from .stack import Stack

Loc = tuple[object, ...]

# -- placeholders ---------------------------------------------------------------------------
# Compared after folding: lower case, only letters and digits kept (`Change_Me` -> changeme).
PLACEHOLDER_MARKERS = (  # anywhere in the value
    "changeme", "replaceme", "fillmein", "placeholder", "yourkey", "yourapikey", "yoursecret",
    "yourpassword", "yourtoken", "keyhere", "secrethere", "tokenhere", "passwordhere",
)
PLACEHOLDER_WORDS = frozenset({  # the whole value (after an optional `sk-`)
    "todo", "fixme", "tbd", "none", "null", "nil", "empty", "unset", "undefined", "secret",
    "password", "passwd", "pass", "key", "apikey", "token", "test", "example", "sample",
    "dummy", "default", "admin", "root", "qwerty",
})
_SHAPES = (  # (pattern on the raw value, what it looks like)
    (re.compile(r"<[^<>]*>"), "an unfilled <...> template"),
    (re.compile(r"\{\{.*\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*\}"), "an unexpanded template variable"),
)
_DIGITS = "1234567890"  # 123456 is OneAPI's own default root password
_XS = re.compile(r"[a-z]{0,8}x{4,}")  # xxxx, sk-xxxxxxxx, sk-proj-xxxx


def _folded(value: str) -> str:
    return "".join(c for c in value.lower() if c.isascii() and c.isalnum())


def placeholder(value: str) -> str | None:
    """Why `value` reads as a placeholder rather than a secret, or None. The reason never
    quotes the value (a real secret could trip a rule)."""
    for pattern, what in _SHAPES:
        if pattern.fullmatch(value.strip()):
            return what
    folded = _folded(value)
    if not folded and len(set(value)) <= 2:
        return "empty-looking: no letter or digit"
    if any(m in folded for m in PLACEHOLDER_MARKERS):
        return "holds a stand-in phrase such as 'change me' or 'your key here'"
    word = folded.removeprefix("sk") if value.lower().startswith("sk-") else folded
    if word in PLACEHOLDER_WORDS:
        return "a stand-in word such as 'todo' or 'password'"
    if len(set(folded)) == 1:
        return "is one character repeated"
    if len(folded) >= 6 and (_DIGITS.startswith(folded) or ("0" + _DIGITS).startswith(folded)):
        return "is a run of sequential digits"
    if _XS.fullmatch(folded):
        return "is a row of x"
    return None


# -- strength of the kit's own access-control secrets ------------------------------------------
MIN_LENGTH = 16


@dataclass(frozen=True)
class Strength:
    what: str  # shown in messages: what the secret guards
    min_len: int = MIN_LENGTH
    max_len: int | None = None
    max_why: str = ""
    prefix: str = ""
    prefix_why: str = ""


RELAY_SECRET = Strength("the relay's shared secret: who holds it may spend the provider keys")
SESSION_SECRET = Strength("OneAPI's session signing key: who knows it can forge admin logins")
ROOT_TOKEN = Strength("OneAPI's admin API token", max_len=32,
                      max_why="OneAPI stores access tokens in char(32)")
ROOT_PASSWORD = Strength("the gateway's root password", max_len=20,
                         max_why="OneAPI and New-API refuse longer passwords")
# LiteLLM's docs (docs.litellm.ai/docs/proxy/virtual_keys, "Setup": the master key "must start
# with sk-"). Its auth code (litellm/proxy/auth/user_api_key_auth.py) compares the master key
# first and then asserts every other bearer starts with `sk-`; the prefix is what its docs and
# UI require, so a key without it is refused here rather than found out on the gateway.
MASTER_KEY = Strength("LiteLLM's master (admin) key", prefix="sk-",
                      prefix_why="LiteLLM's documented requirement for the master key")
CLIENT_KEY_SECRET = Strength("the secret every LiteLLM client key is derived from")
MODEL_KEY = Strength("the model server's API key")
MODEL_KINDS = ("vllm", "sglang")  # servers the kit runs and hands the key to


def kit_secrets(stack: Stack) -> Iterator[tuple[Loc, str, Strength]]:
    """(field location, secret name, rule) of every secret guarding something the kit runs.
    Provider keys, SSH passphrases and external servers' keys are others' to choose."""
    for name, relay in stack.relays.items():
        if relay.access.shared_secret:
            yield ("relays", name, "access", "shared_secret"), relay.access.shared_secret, \
                RELAY_SECRET
    for name, gw in stack.gateways.items():
        if gw.engine == "oneapi" and gw.oneapi is not None:
            loc: Loc = ("gateways", name, "oneapi")
            yield loc + ("session_secret",), gw.oneapi.session_secret, SESSION_SECRET
            if gw.oneapi.root_access_token:
                yield loc + ("root_access_token",), gw.oneapi.root_access_token, ROOT_TOKEN
            yield loc + ("root_password",), gw.oneapi.root_password, ROOT_PASSWORD
        elif gw.engine == "litellm" and gw.litellm is not None:
            loc = ("gateways", name, "litellm")
            yield loc + ("master_key",), gw.litellm.master_key, MASTER_KEY
            yield loc + ("client_key_secret",), gw.litellm.client_key_secret, CLIENT_KEY_SECRET
    for name, gpu in stack.gpu_hosts.items():
        for i, svc in enumerate(gpu.services):
            key = svc.client_key()
            if key and svc.tag() in MODEL_KINDS:
                yield ("gpu_hosts", name, "services", i, "api_key"), key, MODEL_KEY


def _weak(name: str, value: str, rule: Strength) -> str | None:
    n = len(value)
    if rule.max_len is not None and not rule.min_len <= n <= rule.max_len:
        return (f"secret {name} should be {rule.min_len} to {rule.max_len} characters "
                f"({rule.what}; {rule.max_why})")
    if n < rule.min_len:
        return f"secret {name} is shorter than {rule.min_len} characters ({rule.what})"
    if rule.prefix and not value.startswith(rule.prefix):
        return f"secret {name} should start with {rule.prefix!r} ({rule.prefix_why})"
    return None


# Never placeholder-checked: the passphrase of an existing SSH key is whatever that key needs.
NOT_JUDGED = ("key_password",)


def check_secret_values(stack: Stack, example_ok: bool = False) -> tuple[list[str], list[str]]:
    """(errors, warnings). A placeholder read from a `*.example` secrets file is a warning when
    `example_ok` (check and render show what the example would become); anywhere else an error."""
    secrets = stack.secrets
    errors: list[str] = []
    warnings: list[str] = []
    placeholders: set[str] = set()
    for loc, name in stack.secret_names():
        if loc[-1] in NOT_JUDGED or name in placeholders or not secrets.has(name):
            continue
        why = placeholder(secrets.get(name))
        if why is None:
            continue
        placeholders.add(name)
        if example_ok and secrets.from_example(name):
            warnings.append(line(loc, f"secret {name} is a placeholder ({why}) from "
                                 f"{secrets.file}: fill in a copy before deploying"))
        else:
            errors.append(line(loc, f"secret {name} looks like a placeholder ({why}): set the "
                               "real value"))
    for loc, name, rule in kit_secrets(stack):
        if name in placeholders or not secrets.has(name):
            continue
        problem = _weak(name, secrets.get(name), rule)
        if problem:
            errors.append(line(loc, problem))
    return errors, warnings
