"""Checks that span fields or hosts. Each returns error lines; none touches the network."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import line
from .gateway_objects import token_key_var
from .metrics_checks import check_metrics
from .ports import check_ports
from .providers import channel_kind
from .stack import Stack

Loc = tuple[object, ...]
_HEADER_SAFE = re.compile(r"^[A-Za-z0-9._+/=-]+$")
# Characters that end a part of a MySQL/PostgreSQL DSN or URL (user:password@host/db?k=v#f,
# %-escapes); the gateway and its drivers each split DSNs their own way, so none may appear.
_DSN_SEPARATORS = "@/?#:% "
GROUPS_MAX = 32  # OneAPI stores a channel's groups comma-joined in a varchar(32)


def check_stack(stack: Stack) -> list[str]:
    errors: list[str] = []
    for check in (_host_names, _gpu_services, _tunnels, _channels, _tokens, _litellm,
                  check_metrics, check_ports, _acme_names):
        errors.extend(check(stack))
    if not (stack.gpu_hosts or stack.gateways or stack.relays):
        errors.append("stack: no hosts declared (gpu_hosts, gateways, relays are all empty)")
    return errors


# Names no public ACME CA issues for: they resolve only inside some network, or never.
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa", ".test",
                     ".invalid", ".localdomain", ".corp", ".intranet")


def _acme_names(stack: Stack) -> Iterator[str]:
    """`mode: acme` runs certbot's HTTP-01 challenge for every server name: an IP address, a
    single label or a private suffix fails there, after the deploy has started."""
    named: list[tuple[Loc, Loc, str]] = []
    for name, gw in stack.gateways.items():
        named.append((("gateways", name, "nginx", "tls"), ("gateways", name, "nginx",
                                                         "server_name"), gw.nginx.server_name))
    for name, relay in stack.relays.items():
        tls: Loc = ("relays", name, "tls")
        named.append((tls, ("relays", name, "server_name"), relay.server_name))
        if relay.routing == "host":
            named += [(tls, ("relays", name, "providers", i, "server_name"), p.server_name)
                      for i, p in enumerate(relay.providers) if p.server_name]
    modes = {loc: t.mode for _, loc, t in stack.tls_settings()}
    for tls_loc, loc, server in named:
        if modes.get(tls_loc) != "acme":
            continue
        low = server.lower().rstrip(".")
        if low.replace(".", "").isdigit():
            why = "is an IP address"
        elif "." not in low:
            why = "is a single label"
        elif low.endswith(_PRIVATE_SUFFIXES):
            why = f"ends in {next(x for x in _PRIVATE_SUFFIXES if low.endswith(x))}"
        else:
            continue
        yield line(loc, f"{server!r} {why}: a public ACME CA issues no certificate for it "
                   "(tls mode acme); use self_signed or files")


def _repeats(values: Sequence[object]) -> Iterator[tuple[int, object, int]]:
    """(index, value, index of its first use) for every value seen before."""
    first: dict[object, int] = {}
    for i, value in enumerate(values):
        if value in first:
            yield i, value, first[value]
        first.setdefault(value, i)


def _host_names(stack: Stack) -> Iterator[str]:
    seen: dict[str, str] = {}
    for section in ("gpu_hosts", "gateways", "relays"):
        for name in getattr(stack, section):
            if name in seen:
                yield line((section, name), f"duplicate host name (also in {seen[name]})")
            seen.setdefault(name, section)
    # One pinned key on two machines: a cloned image whose keys were never regenerated, or a
    # key pasted under the wrong host. Either way the pin no longer tells the hosts apart.
    pinned: dict[str, tuple[str, tuple[str, int]]] = {}
    for section in ("gpu_hosts", "gateways", "relays"):
        for name, host in getattr(stack, section).items():
            key, where = host.ssh.host_key, (host.ssh.host, host.ssh.port)
            if key is None:
                continue
            first, first_where = pinned.setdefault(key, (name, where))
            if first != name and first_where != where:
                yield line((section, name, "ssh", "host_key"),
                           f"the same key is pinned for {first}: two machines with one host key "
                           "(a cloned image: run ssh-keygen -A there) or a key pasted under the "
                           "wrong host")


def _gpu_services(stack: Stack) -> Iterator[str]:
    for host_name, gpu in stack.gpu_hosts.items():
        base: Loc = ("gpu_hosts", host_name)
        for i, port, j in _repeats([s.port for s in gpu.services]):
            yield line(base + ("services", i, "port"), f"{port} already used by services/{j}")
        for i, name, j in _repeats([s.name for s in gpu.services]):
            yield line(base + ("services", i, "name"), f"{name!r} already used by services/{j}")
        pinned: dict[int, int] = {}
        for i, svc in enumerate(gpu.services):
            loc = base + ("services", i)
            for j, idx in enumerate(svc.gpu_list):
                if gpu.gpus is not None and idx >= gpu.gpus:
                    yield line(loc + ("gpus", j), f"GPU {idx} out of range: the host declares "
                               f"{gpu.gpus} GPU(s)")
                if idx in pinned:
                    yield line(loc + ("gpus", j), f"GPU {idx} already pinned by services/{pinned[idx]}")
                pinned.setdefault(idx, i)
            tp = getattr(svc, "tensor_parallel_size", None)
            if tp is not None and tp != max(len(svc.gpu_list), 1):
                yield line(loc + ("tensor_parallel_size",),
                           f"{tp} does not match the {len(svc.gpu_list)} pinned GPU(s)")
            if not svc.served():
                yield line(loc, "serves no model name: list models (the channel needs names)")
            for var in ("NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
                if var in svc.env and svc.gpu_list:
                    yield line(loc + ("env", var), "conflicts with the pinned gpus (Compose "
                               "device reservations set it); pin GPUs with gpus only")
            if gpu.reach == "direct" and svc.tunnel_port is not None:
                yield line(loc + ("tunnel_port",), "only used on hosts with reach: tunnel")


def _tunnels(stack: Stack) -> Iterator[str]:
    for host_name, gpu in stack.gpu_hosts.items():
        loc: Loc = ("gpu_hosts", host_name)
        if gpu.reach == "direct":
            if gpu.via is not None:
                yield line(loc + ("via",), "only used with reach: tunnel")
            continue
        if not (gpu.ssh.host_key or gpu.ssh.known_hosts):
            yield line(loc + ("ssh", "host_key"), "required for reach: tunnel (the gateway's "
                       "tunnel pins the host key)")
        if gpu.via is not None and gpu.via not in stack.gateways:
            yield line(loc + ("via",), f"{gpu.via!r} is not a declared gateway")
        elif gpu.via is None and not stack.gateways:
            yield line(loc + ("reach",), "tunnel-only host but no gateway is declared")
        elif gpu.via is None and len(stack.gateways) > 1:
            yield line(loc + ("via",), "several gateways are declared: say which one tunnels here")
    for gw_name, gw in stack.gateways.items():
        if gw.tunnel_port_base + gw.tunnel_port_range - 1 > 65535:
            yield line(("gateways", gw_name, "tunnel_port_range"),
                       f"tunnel_port_base {gw.tunnel_port_base} + {gw.tunnel_port_range} ports "
                       "goes past 65535")
        engine = gw.engine_settings
        used: dict[int, str] = {engine.api_port: engine.port_key}
        for t in stack.tunnels(gw_name):
            what = f"{t.gpu_host}/{t.service}"
            if t.local_port in used:
                services = stack.gpu_hosts[t.gpu_host].services
                idx = [s.name for s in services].index(t.service)
                how = "" if services[idx].tunnel_port else \
                    " (hashed from the service's name: set tunnel_port on one of them)"
                yield line(("gpu_hosts", t.gpu_host, "services", idx, "tunnel_port"),
                           f"gateway port {t.local_port} on {gw_name} already used by "
                           f"{used[t.local_port]}{how}")
            used.setdefault(t.local_port, what)
        for t in stack.tunnels(gw_name):
            for f in t.forwards:  # exporter forwards (metrics)
                if f.local_port in used:
                    yield line(("gateways", gw_name, "metrics", "tunnel_ports", t.gpu_host),
                               f"gateway port {f.local_port} of {t.gpu_host}'s {f.what} forward "
                               f"is already used by {used[f.local_port]}")
                used.setdefault(f.local_port, f"{t.gpu_host}/{f.what}")
        metrics = gw.metrics
        if metrics is not None and metrics.enabled and metrics.port in used:
            yield line(("gateways", gw_name, "metrics", "port"),
                       f"{metrics.port} is already used by {used[metrics.port]}")


def _channels(stack: Stack) -> Iterator[str]:
    names = [ch.name for ch in stack.channels]
    for i, name, j in _repeats(names):
        yield line(("channels", i, "name"), f"{name!r} already used by channels/{j}")
    for i, _, j in _repeats([n.lower() for n in names]):
        if names[i] != names[j]:  # MySQL compares names case-insensitively
            yield line(("channels", i, "name"), f"{names[i]!r} differs from channels/{j} "
                       f"({names[j]!r}) only in case: rename one")
    for i, ch in enumerate(stack.channels):
        loc: Loc = ("channels", i)
        if ch.relay is not None:
            relay_name, _, kind = ch.relay.partition("/")
            relay = stack.relays.get(relay_name)
            if relay is None:
                yield line(loc + ("relay",), f"{relay_name!r} is not a declared relay")
            elif kind not in [p.kind for p in relay.providers]:
                yield line(loc + ("relay",), f"relay {relay_name} has no provider {kind!r} "
                           f"(it has: {', '.join(p.kind for p in relay.providers)})")
            elif channel_kind(kind) != ch.type:
                yield line(loc + ("type",), f"{ch.type!r} does not match relay provider {kind} "
                           f"(use {channel_kind(kind)!r})")
        for j, group, _ in _repeats(list(ch.groups)):
            yield line(loc + ("groups", j), f"{group!r} listed twice")
    for gw_name in stack.gateways:
        yield from _gateway_channels(stack, gw_name)
        yield from _served_name_clashes(stack, gw_name)


def _gateway_channels(stack: Stack, gateway: str) -> Iterator[str]:
    """What the gateway stores: unique names, comma-joined lists of plain words."""
    specs = stack.channel_specs(gateway)
    for i, name, j in _repeats([s.name for s in specs]):
        if not specs[j].origin.startswith("channels/"):
            yield _origin_line(f"{specs[i].origin}/name", f"{name!r} already used by the "
                               f"channel of {specs[j].origin}")
    for spec in specs:
        external = spec.origin.startswith("channels/")
        for key, values in (("models", spec.models), ("groups", spec.groups)):
            for j, value in enumerate(values):
                if not value or value != value.strip() or any(c in value for c in ",\r\n"):
                    where = f"{spec.origin}/{key}/{j}" if external else (
                        f"{spec.origin}/channel/groups/{j}" if key == "groups" else spec.origin)
                    yield _origin_line(where, f"{value!r}: a name without commas, line breaks "
                                       "or surrounding spaces (the gateway joins lists with commas)")
        if len(",".join(spec.groups)) > GROUPS_MAX:
            where = f"{spec.origin}/groups" if external else f"{spec.origin}/channel/groups"
            yield _origin_line(where, f"{GROUPS_MAX} characters at most, comma-joined (OneAPI's "
                               "column width)")


def _served_name_clashes(stack: Stack, gateway: str) -> Iterator[str]:
    first: dict[tuple[str, str], tuple[str, bool]] = {}
    folded: dict[str, tuple[str, str]] = {}
    explicit = _explicit_priorities(stack)
    for spec in stack.channel_specs(gateway):
        for model in spec.models:
            seen, where = folded.setdefault(model.casefold(), (model, spec.origin))
            if seen != model:  # MySQL's default collation matches model names ignoring case
                yield _origin_line(spec.origin, f"model {model!r} differs from {seen!r} "
                                   f"(served by {where}) only in case: the gateway may take one "
                                   "for the other; rename one")
            for group in spec.groups:
                key = (group, model)
                if key not in first:
                    first[key] = (spec.origin, explicit[spec.origin])
                    continue
                other, other_explicit = first[key]
                if not (explicit[spec.origin] and other_explicit):
                    yield _origin_line(spec.origin, f"model {model!r} (group {group}) is also "
                                       f"served by {other}: set a priority on both to say which "
                                       "wins (equal priorities share load)")


def _explicit_priorities(stack: Stack) -> dict[str, bool]:
    out = {f"channels/{i}": ch.priority is not None for i, ch in enumerate(stack.channels)}
    for host_name, gpu in stack.gpu_hosts.items():
        for i, svc in enumerate(gpu.services):
            out[f"{host_name}/services/{i}"] = svc.channel.priority is not None
    return out


def _origin_line(origin: str, message: str) -> str:
    scope, _, path = origin.partition("/")
    if scope == "channels":
        return f"channels: {path}: {message}"
    return f"{scope}: {path}: {message}"


def _tokens(stack: Stack) -> Iterator[str]:
    served = {m for gw in stack.gateways for s in stack.channel_specs(gw) for m in s.models}
    names = [tok.name for tok in stack.tokens]
    for i, name, j in _repeats(names):
        yield line(("tokens", i, "name"), f"{name!r} already used by tokens/{j}")
    # The key file on the operator's machine holds one variable per token: two names that
    # upper-case to one variable would hand one token's key out for the other.
    for i, var, j in _repeats([token_key_var(n) for n in names]):
        if names[i] != names[j]:
            yield line(("tokens", i, "name"), f"{names[i]!r} and tokens/{j} ({names[j]!r}) "
                       f"differ only in case or punctuation (both keep their key as {var}): "
                       "rename one")
    for i, tok in enumerate(stack.tokens):
        loc: Loc = ("tokens", i)
        for j, model in enumerate(tok.models):
            if stack.gateways and model not in served:
                yield line(loc + ("models", j), f"{model!r} is served by no channel")
    if stack.tokens and not stack.gateways:
        yield "tokens: declared but no gateway is declared"


def _litellm(stack: Stack) -> Iterator[str]:
    """What config-only LiteLLM cannot enforce is refused, not silently dropped."""
    engines = [name for name, gw in stack.gateways.items() if gw.engine == "litellm"]
    if not engines:
        return
    for i, tok in enumerate(stack.tokens):
        if tok.quota != "unlimited":
            yield line(("tokens", i, "quota"), f"gateway {engines[0]} runs LiteLLM without a "
                       "database, which cannot count quota: set quota: unlimited (or use "
                       "engine: oneapi)")
    for gw_name in engines:
        for spec in stack.channel_specs(gw_name):
            if "default" not in spec.groups:
                yield _origin_line(spec.origin, f"groups {spec.groups} leave out 'default', the "
                                   f"group kit tokens belong to; LiteLLM on {gw_name} has no "
                                   "groups and would serve this channel to every token: add "
                                   "'default' (or use engine: oneapi)")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _env_file_problem(value: str) -> str | None:
    """Secrets are written single-quoted into env files: these would end the value early."""
    if "'" in value:
        return "holds a single quote"
    if _CONTROL.search(value):
        return "holds a line break or control character"
    if value.endswith("\\"):
        return "ends in a backslash"
    return None


def check_secrets(stack: Stack) -> list[str]:
    errors: list[str] = []
    secrets = stack.secrets
    errors += [f"stack: secrets_file: {problem}" for problem in secrets.problems]
    if not secrets.file_is_private():
        errors.append(f"stack: secrets_file: {secrets.file} is readable by other users "
                      f"(run: chmod 600 {secrets.file})")
    reported: set[str] = set()
    for loc, name in stack.secret_names():
        if not secrets.has(name):
            errors.append(line(loc, f"secret {name} is not set (looked in {secrets.where()})"))
            continue
        if name in reported:
            continue
        reported.add(name)
        if secrets.conflicts(name):
            errors.append(line(loc, f"secret {name} is set in the environment and in "
                          f"{secrets.file} with different values: unset one of them"))
        value = secrets.get(name)
        if value != value.strip():
            errors.append(line(loc, f"secret {name} has leading or trailing spaces (a shell "
                               "export and a dotenv file would not agree on it)"))
        if any(c in value for c in "\r\n"):
            errors.append(line(loc, f"secret {name} holds a line break (secrets are one line)"))
            continue
        problem = _env_file_problem(value)
        if problem:
            errors.append(line(loc, f"secret {name} {problem} (it is written into an env "
                               "file)"))
    for relay_name, relay in stack.relays.items():
        secret = relay.access.shared_secret
        if secret and secrets.has(secret):
            value = secrets.get(secret)
            loc = ("relays", relay_name, "access", "shared_secret")
            # (16 characters at least, secret_values: never an Nginx map keyword such as
            # `default` or `include`)
            if not _HEADER_SAFE.match(value):
                errors.append(line(loc, f"secret {secret} may only hold letters, digits and "
                                   "-_.+/= (it is compared inside the Nginx config)"))
    for gw_name, gw in stack.gateways.items():
        if gw.engine != "oneapi" or gw.oneapi is None:
            continue
        # lengths of the engine's own credentials: secret_values.kit_secrets
        mysql = gw.oneapi.mysql
        if gw.oneapi.database == "mysql" and mysql and secrets.has(mysql.password):
            bad = sorted(set(secrets.get(mysql.password)) & set(_DSN_SEPARATORS))
            if bad:
                errors.append(line(("gateways", gw_name, "oneapi", "mysql", "password"),
                                   f"secret {mysql.password} holds {' '.join(map(repr, bad))}, "
                                   "which SQL_DSN (root:PASSWORD@tcp(mysql:3306)/DB?params) "
                                   "reads as a separator: choose a password without "
                                   f"{' '.join(_DSN_SEPARATORS.strip())} or spaces"))
    return errors


def file_problem(path: str, needle: str | None = None, what: str = "") -> str | None:
    """Why an operator-side file cannot be used (missing, unreadable, wrong content)."""
    p = Path(path)
    try:
        if p.is_dir():
            return f"{path} is a directory, not a file"
        if not p.exists():
            return f"{path} does not exist"
        if not p.is_file():
            return f"{path} is not a regular file"
        if needle is None:
            with p.open("rb"):
                return None
        with p.open("rb") as fh:
            head = fh.read(1024 * 1024)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if needle.encode() not in head:
        return f"{path} holds no {what}"
    return None


def others_can_read(path: str) -> str | None:
    """A private key on the operator's machine that other local users can read (its owner
    decides: a root-owned key shared read-only with a group is their call)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        return (f"{path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o}) and "
                f"holds a private key (run: chmod 600 {path})")
    return None


def check_local_files(stack: Stack) -> list[str]:
    """Operator-side files the deploy will upload must exist (and hold what they should)."""
    errors: list[str] = []  # TLS files (parsed, matched, dated): tlsfiles.check_tls_files
    for section in ("gpu_hosts", "gateways", "relays"):
        for host_name, host in getattr(stack, section).items():
            known = host.ssh.known_hosts
            if known and not Path(known).expanduser().is_file():
                errors.append(line((section, host_name, "ssh", "known_hosts"),
                                   f"{known} does not exist"))
    for gw_name, gw in stack.gateways.items():
        for i, path in enumerate(gw.engine_settings.trust_ca_files):
            loc = ("gateways", gw_name, gw.engine, "trust_ca_files", i)
            problem = file_problem(path, "-----BEGIN CERTIFICATE-----", "PEM certificate")
            if problem:
                errors.append(line(loc, problem))
    return errors
