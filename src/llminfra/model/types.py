"""Constrained value types: the one definition of what a string may hold before it reaches a
file, a unit, a command line or a config on a host.

Every model field that ends up on a host uses one of these, so `check` refuses a bad value
with its path, and renderers and deploys can trust what they get. The character sets are
deliberately narrow: a value outside them is refused, never quoted around.
"""

from __future__ import annotations

import base64
import datetime as dt
import binascii
import ipaddress
import posixpath
import re
import struct
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Beyond ASCII: C1 controls (NEL), format characters (zero-width space, bidi overrides, BOM),
# line/paragraph separators, private use, surrogates and unassigned code points. Invisible in
# a review, they change what a YAML parser, a shell or a proxy sees (or what a name looks like).
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_UNIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_PATH_CHARS = re.compile(r"^[A-Za-z0-9._+@%=,/-]+$")
_URL_PATH = re.compile(r"^[A-Za-z0-9._~/%+=-]*$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
_MODEL_SOURCE = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9._/@+-]*$")
_GROUP = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CHANNEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_REGISTRY_PREFIX = r"(?:[a-z0-9][a-z0-9.-]*(?::[0-9]{1,5})?/)?"  # host[:port]/ of a registry
_IMAGE = re.compile(r"^" + _REGISTRY_PREFIX + r"[a-z0-9][a-z0-9._/-]*"
                    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
_IMAGE_REPO = re.compile(r"^" + _REGISTRY_PREFIX + r"[a-z0-9][a-z0-9._/-]*$")
_DNS_LOWER = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
_REGISTRY = re.compile(r"^" + _DNS_LOWER + r"(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*/?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SIZE = re.compile(r"^[0-9]{1,12}[kKmMgG]?$")
_DURATION = re.compile(r"^(-1|0|([0-9]{1,6}(ms|s|m|h))+)$")
# Prometheus' own duration syntax (no 0, no negatives; units largest first by convention)
_PROM_DURATION = re.compile(r"^([0-9]{1,6}(y|w|d|h|m|s|ms))+$")
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_URL_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+/?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$")
_IDENT = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_RELAY_REF = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9_-]*$")
_TOKEN_WORD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # no leading '-': it follows a flag
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@+-]*$")

MAX_TEXT = 4096
MODEL_NAME_MAX = 128


def _plain(value: str, what: str, limit: int = MAX_TEXT) -> str:
    """No control characters (NUL, line breaks, escapes), not empty, bounded."""
    if not value:
        raise ValueError("should not be empty")
    if _CONTROL.search(value):
        raise ValueError(f"{value[:60]!r} holds a control character (line break, tab, NUL, ...)")
    if len(value) > limit:
        raise ValueError(f"should be at most {limit} characters")
    if not value.isascii():
        for c in value:
            if unicodedata.category(c) in _INVISIBLE:
                raise ValueError(f"{value[:60]!r} holds an invisible or control character "
                                 f"(U+{ord(c):04X}: zero-width, bidi, line separator, ...)")
    return value


def _port_text(port: str) -> bool:
    """ASCII digits only: str.isdigit() also admits '٤٤٣' and '²', which no config reads."""
    return port.isascii() and port.isdigit() and 1 <= int(port) <= 65535


def _match(pattern: re.Pattern[str], value: str, what: str, limit: int = MAX_TEXT) -> str:
    _plain(value, what, limit)
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


# -- network names and addresses ----------------------------------------------------------

def ip_address(value: str) -> str:
    _plain(value, "IP address", 64)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address (e.g. 10.0.0.5 or fd00::5)") from None
    return value


def dns_name(value: str) -> str:
    """A DNS name (RFC 1123 labels); an all-numeric last label must be a real IPv4 address."""
    _plain(value, "DNS name", 253)
    labels = value.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a DNS name (letters, digits, '-' and dots)")
    if labels[-1].isdigit():
        ip_address(value)
    return value


def host_address(value: str) -> str:
    """A DNS name or an IPv4/IPv6 address (no brackets, no port)."""
    _plain(value, "host name or address", 253)
    if ":" in value:
        return ip_address(value)
    try:
        return dns_name(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a host name or IP address") from None


def server_name(value: str) -> str:
    """A name Nginx serves, certificates are issued for and URLs are built from: a DNS name
    or an IPv4 address (IPv6 would need brackets in URLs and has no place in file names)."""
    _plain(value, "server name", 253)
    if ":" in value:
        raise ValueError(f"{value!r} is not a server name (a DNS name or an IPv4 address)")
    try:
        return dns_name(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a server name (a DNS name or an IPv4 address)") from None


def host_port(value: str) -> str:
    """`host` or `host:port` (IPv6 as `[addr]:port`)."""
    _plain(value, "host[:port]", 260)
    if "://" in value or "/" in value:
        raise ValueError(f"{value[:60]!r}: give the host (and :port) only, no scheme or path")
    host, port = value, None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r} is not host or host:port")
        port = rest[1:] if rest else None
        ip_address(host)
    else:
        if value.count(":") == 1:
            host, port = value.split(":")
        host_address(host)
    if port is not None and not _port_text(port):
        raise ValueError(f"{value!r}: port should be 1..65535")
    return value


def upstream(value: str) -> str:
    """`name[:port]` a proxy connects to with TLS (SNI needs a name; no IPv6 literals)."""
    if "[" in value or value.count(":") > 1:
        raise ValueError(f"{value[:60]!r}: use a DNS name or IPv4 address (with an optional "
                         ":port)")
    return host_port(value)


class _HostBits(ValueError):
    """A network written with an address inside it (10.0.0.1/24): almost always a typo."""


def _cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a CIDR")
    if _CONTROL.search(value) or "/" not in value:
        raise ValueError(f"{value[:60]!r} is not a CIDR")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            fixed = ipaddress.ip_network(value, strict=False)
            raise _HostBits(f"{value!r} has host bits set (did you mean {fixed}?)") from None
        raise ValueError(f"{value[:60]!r} is not a CIDR") from None


def cidr(value: str) -> str:
    try:
        _cidr(value)
    except _HostBits:
        raise
    except ValueError as exc:
        raise ValueError(f"{exc} (e.g. 203.0.113.0/24)") from None
    return value


def cidr_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return _cidr(value)


def check_cidrs(values: list[str], example: str = "") -> list[str]:
    """Every entry is a strict IPv4/IPv6 network; errors name the entry."""
    for i, value in enumerate(values):
        try:
            _cidr(value)
        except _HostBits as exc:
            raise ValueError(f"entry {i}: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"entry {i}: {exc}{example}") from None
    return values


# -- URLs ---------------------------------------------------------------------------------

def url(value: str) -> str:
    """`http(s)://host[:port][/path]`: no credentials, query, quotes or spaces, so the value
    is safe verbatim in apt, Docker, Nginx and env files."""
    _plain(value, "URL", 2048)
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not a URL with scheme http:// or https://")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        raise ValueError(f"{value!r}: credentials do not belong in a URL here (use a secret)")
    try:
        host_port(netloc)
    except ValueError:
        raise ValueError(f"{value!r}: {netloc!r} is not a host or host:port") from None
    if not _URL_PATH.match(path):
        raise ValueError(f"{value!r}: the path may hold letters, digits and ._~/%+=- only")
    return value


# -- files and users on hosts -------------------------------------------------------------

def abs_path(value: str) -> str:
    """An absolute, normalized path of plain characters (it goes into units, Compose volume
    lines and commands): no `..`, `.`, `//`, spaces, colons or control characters."""
    _plain(value, "absolute path")
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not an absolute path")
    if not _PATH_CHARS.match(value):
        raise ValueError(f"{value!r}: a path may hold letters, digits and ._+@%=,/- only")
    trimmed = value.rstrip("/") or "/"
    if "//" in trimmed or posixpath.normpath(trimmed) != trimmed:
        raise ValueError(f"{value!r} is not a normalized path (no '..', '.' or '//')")
    return trimmed


def local_path(value: str) -> str:
    """A file on the operator's machine (relative to the stack file, `~` expanded)."""
    return _plain(value, "file path")


def unix_user(value: str) -> str:
    return _match(_UNIX_USER, value, "a user name (lower-case letters, digits, '_' and '-', "
                  "at most 32, starting with a letter or '_')")


# -- names that become OneAPI objects, env vars, images -----------------------------------

def model_name(value: str) -> str:
    """A public or upstream model name: the gateway splits model lists on ',' and
    stores them as text, so no separators, spaces or control characters."""
    return _match(_MODEL, value, "a model name (letters, digits and ._:/@+-, no ',' or "
                  "spaces)", MODEL_NAME_MAX)


def model_source(value: str) -> str:
    """A Hugging Face / ModelScope id (`org/name`) or an absolute path to weights."""
    _match(_MODEL_SOURCE, value, "a model id (org/name) or an absolute path", 512)
    if ".." in value.split("/") or "//" in value:
        raise ValueError(f"{value!r} is not a model id or a normalized path")
    return value


def group_name(value: str) -> str:
    return _match(_GROUP, value, "a group name (letters, digits, '_' and '-', at most 32)")


def channel_name(value: str) -> str:
    return _match(_CHANNEL, value, "a channel name (letters, digits and ._-, at most 64; "
                  "'/' is reserved for channels derived from services)")


def env_name(value: str) -> str:
    return _match(_ENV_NAME, value, "an environment variable name (letters, digits, '_')")


def env_value(value: str) -> str:
    if value == "":
        return value
    return _plain(value, "value")


def arg(value: str) -> str:
    """One command-line word (Compose lists it as its own item: no shell is involved)."""
    return _plain(value, "argument")


def image_ref(value: str) -> str:
    return _match(_IMAGE, value, "an image reference (registry/name[:tag][@sha256:...], "
                  "lower-case name)", 512)


def image_repo(value: str) -> str:
    return _match(_IMAGE_REPO, value, "an image name without tag (lower-case)", 512)


def image_tag(value: str) -> str:
    return _match(_TAG, value, "an image tag (letters, digits, '_', '.', '-')")


def registry(value: str) -> str:
    _match(_REGISTRY, value, "a registry (host[:port][/path], lower-case)", 512)
    port = re.match(r"^[^:/]*:([0-9]+)", value)
    if port and not _port_text(port.group(1)):
        raise ValueError(f"{value!r}: port should be 1..65535")
    return value


def volume(value: str) -> str:
    """`/host/path:/container/path[:ro|:rw]`."""
    _plain(value, "volume")
    parts = value.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        raise ValueError(f"{value!r} is not /host/path:/container/path[:ro|:rw]")
    for part in parts[:2]:
        abs_path(part)
    return value


def size(value: str) -> str:
    return _match(_SIZE, value, "a size such as 64m or 16g")


def duration(value: str) -> str:
    return _match(_DURATION, value, "a duration such as 5m, 1h30m, 0 or -1")


def prom_duration(value: str) -> str:
    _match(_PROM_DURATION, value, "a Prometheus duration such as 15s, 1m or 30d")
    if not any(c in "123456789" for c in value):
        raise ValueError(f"{value!r} is not a positive duration")
    return value


def header_name(value: str) -> str:
    return _match(_HEADER, value, "an HTTP header name (letters, digits and '-')")


def url_prefix(value: str) -> str:
    _match(_URL_PREFIX, value, "a URL path prefix such as /openai")
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError(f"{value!r} is not a normalized path (no '.' or '..')")
    return value


def email(value: str) -> str:
    return _match(_EMAIL, value, "an e-mail address", 254)


def identifier(value: str) -> str:
    return _match(_IDENT, value, "a name of letters, digits and '_' (at most 64)")


def relay_ref(value: str) -> str:
    return _match(_RELAY_REF, value, "a relay reference <relay host>/<provider kind>", 128)


def text(value: str) -> str:
    """A display name (tokens): one line, no surrounding spaces, and no quotes or backslashes,
    as it is carried inside JSON in single-quoted env files."""
    _plain(value, "text", 256)
    if value != value.strip():
        raise ValueError(f"{value!r} has leading or trailing spaces")
    if any(c in value for c in "'\"\\`"):
        raise ValueError(f"{value!r}: quotes and backslashes are not allowed")
    return value


def token_word(value: str) -> str:
    return _match(_TOKEN_WORD, value, "a lower-case word (letters, digits, '_' and '-', "
                  "starting with a letter or digit)")


def token_name(value: str) -> str:
    """A client token's name: it is a positional argument of `llminfra clients`, a key
    variable's name once upper-cased, and OneAPI's stored name; plain ASCII, no leading '-'."""
    text(value)
    if not _TOKEN_NAME.match(value):
        raise ValueError(f"{value!r} is not a token name (letters, digits, spaces and ._:@+-, "
                         "starting with a letter or digit)")
    return value


# -- SSH host keys ------------------------------------------------------------------------

HOST_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521", "ssh-rsa")
_HOST_KEY_HINT = ("should be a public host key line such as 'ssh-ed25519 AAAA...' "
                  "(see /etc/ssh/ssh_host_ed25519_key.pub on the host)")


def host_key(value: str) -> str:
    """`<type> <base64 blob>` whose blob is a well-formed key of that type; the comment is
    dropped (known_hosts lines carry none)."""
    if _CONTROL.search(value):
        raise ValueError(_HOST_KEY_HINT)
    parts = value.split()
    if len(parts) < 2 or parts[0] not in HOST_KEY_TYPES:
        raise ValueError(_HOST_KEY_HINT)
    kind, blob = parts[:2]
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        raise ValueError(f"the {kind} key is not valid base64 key data (copy the whole line "
                         "from the host's .pub file)") from None
    if inner != kind:
        raise ValueError(f"the key data is a {inner!r} key, not {kind}")
    if kind == "ssh-ed25519" and len(raw) != 4 + len(kind) + 4 + 32:
        raise ValueError("the ssh-ed25519 key data has the wrong length (copy the whole line)")
    return f"{kind} {blob}"


# -- risky settings an inventory must opt into ----------------------------------------------

RISKS = {
    "open_relay": "a relay allow_cidrs entry admits every address (0.0.0.0/0 or ::/0)",
    "public_admin": "the gateway engine's admin port or UI is reachable beyond its loopback",
    "public_model_port": "a model port is published on a public address without an api_key, "
                         "or with one that guards only some routes (vLLM: /v1)",
    "login_tunnel_user": "the tunnel user is root or a login user on the GPU host",
}
GpuRisk = Literal["public_model_port"]
GatewayRisk = Literal["public_admin", "login_tunnel_user"]
RelayRisk = Literal["open_relay"]


# -- annotated types ----------------------------------------------------------------------

IpAddress = Annotated[str, AfterValidator(ip_address)]
HostAddress = Annotated[str, AfterValidator(host_address)]
ServerName = Annotated[str, AfterValidator(server_name)]
HostPort = Annotated[str, AfterValidator(host_port)]
Upstream = Annotated[str, AfterValidator(upstream)]
Cidr = Annotated[str, AfterValidator(cidr)]
Url = Annotated[str, AfterValidator(url)]
AbsPath = Annotated[str, AfterValidator(abs_path)]
LocalPath = Annotated[str, AfterValidator(local_path)]
UnixUser = Annotated[str, AfterValidator(unix_user)]
ModelName = Annotated[str, AfterValidator(model_name)]
ModelSource = Annotated[str, AfterValidator(model_source)]
GroupName = Annotated[str, AfterValidator(group_name)]
ChannelName = Annotated[str, AfterValidator(channel_name)]
EnvName = Annotated[str, AfterValidator(env_name)]
EnvValue = Annotated[str, AfterValidator(env_value)]
Arg = Annotated[str, AfterValidator(arg)]
ImageRef = Annotated[str, AfterValidator(image_ref)]
ImageRepo = Annotated[str, AfterValidator(image_repo)]
ImageTag = Annotated[str, AfterValidator(image_tag)]
Registry = Annotated[str, AfterValidator(registry)]
Volume = Annotated[str, AfterValidator(volume)]
Size = Annotated[str, AfterValidator(size)]
Duration = Annotated[str, AfterValidator(duration)]
PromDuration = Annotated[str, AfterValidator(prom_duration)]
HeaderName = Annotated[str, AfterValidator(header_name)]
UrlPrefix = Annotated[str, AfterValidator(url_prefix)]
Email = Annotated[str, AfterValidator(email)]
Identifier = Annotated[str, AfterValidator(identifier)]
TokenWord = Annotated[str, AfterValidator(token_word)]
RelayRef = Annotated[str, AfterValidator(relay_ref)]
Text = Annotated[str, AfterValidator(text)]
TokenName = Annotated[str, AfterValidator(token_name)]
HostKey = Annotated[str, AfterValidator(host_key)]
Env = Annotated[dict[EnvName, EnvValue], Field(max_length=256)]


def _date(value: object) -> object:
    """A calendar date: YAML's unquoted 2027-06-30 or the same text quoted. Impossible dates
    (2027-02-30) reach here as text from the loader and are refused by name."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"{value!s} has a time of day: give a date such as 2027-06-30")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(f"{value[:40]!r} is not a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]
