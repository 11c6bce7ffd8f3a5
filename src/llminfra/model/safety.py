"""Checks that keep a valid-looking inventory from doing something dangerous: names that
collide once derived, risky settings without an explicit opt-in, operator-side SSH files.

Each check returns error lines; `risky` also returns the warnings `check` prints for the
risks an inventory opted into.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

from .errors import line
from .relay import Provider
from .stack import Stack
from .types import RISKS, cidr_network, model_name

Loc = tuple[object, ...]

# Accounts that exist on stock Debian/Ubuntu images or cloud images: people or daemons log in
# (or run) as them, so the tunnel deploy must not take them over.
LOGIN_USERS = frozenset({
    "root", "admin", "ubuntu", "debian", "ec2-user", "centos", "cloud-user", "azureuser",
    "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "gnats", "nobody", "systemd-network", "sshd",
    "messagebus", "syslog", "_apt",
})


def check_safety(stack: Stack) -> tuple[list[str], list[str]]:
    """(errors, warnings)."""
    errors = list(_derived_names(stack))
    risk_errors, warnings = _risky(stack)
    return errors + risk_errors, warnings


# -- derived names ------------------------------------------------------------------------

def _derived_names(stack: Stack) -> Iterator[str]:
    for host_name, gpu in stack.gpu_hosts.items():
        for i, svc in enumerate(gpu.services):
            loc: Loc = ("gpu_hosts", host_name, "services", i)
            for served in svc.served():
                try:
                    model_name(served)
                except ValueError:
                    yield line(loc + ("model",), f"its last part {served!r} is not usable as a "
                               "served model name: name one explicitly")
    yield from _env_shadowing(stack)
    units: dict[tuple[str, str], str] = {}
    for t in stack.tunnels():
        key = (t.gateway, t.unit)
        where = f"{t.gpu_host}/{t.service}"
        if key in units:
            idx = [s.name for s in stack.gpu_hosts[t.gpu_host].services].index(t.service)
            yield line(("gpu_hosts", t.gpu_host, "services", idx, "name"),
                       f"tunnel unit {t.unit} on {t.gateway} is also derived from "
                       f"{units[key]}: rename one of the services")
        units.setdefault(key, where)
    # Channel names derived from services vs declared ones: validate._gateway_channels.
    for relay_name, relay in stack.relays.items():
        names: dict[str, str] = {relay.server_name: "server_name"}
        for i, p in enumerate(relay.providers):
            if relay.routing == "host" and p.server_name:
                if p.server_name in names:
                    yield line(("relays", relay_name, "providers", i, "server_name"),
                               f"{p.server_name!r} already used by {names[p.server_name]} "
                               "(each server name gets its own site and certificate)")
                names.setdefault(p.server_name, f"providers/{i}")
        if relay.routing == "path":
            yield from _prefix_overlaps(relay_name, relay.providers)


def _prefix_overlaps(relay_name: str, providers: list[Provider]) -> Iterator[str]:
    """Nginx sends a request to the longest matching location: a prefix inside another
    provider's (`/openai/v1` under `/openai`) would take that provider's traffic, keys included."""
    for i, p in enumerate(providers):
        for j, q in enumerate(providers[:i]):
            a, b = p.path_prefix, q.path_prefix
            if a == b:
                yield line(("relays", relay_name, "providers", i, "prefix"),
                           f"{a} is already the prefix of providers/{j} ({q.kind})")
            elif a.startswith(b + "/") or b.startswith(a + "/"):
                inner, outer = (a, b) if len(a) > len(b) else (b, a)
                yield line(("relays", relay_name, "providers", i, "prefix"),
                           f"{inner} lies inside {outer} (providers/{j}, {q.kind} and "
                           f"{p.kind}): Nginx would route part of one provider's traffic to "
                           "the other; use prefixes that do not nest")


# Variables the gateway engines read from their 0600 secrets file; Compose's `environment`
# wins over `env_file`, so an `env` entry of the same name would silently replace the secret.
ENGINE_SECRET_ENV = ("SESSION_SECRET", "INITIAL_ROOT_ACCESS_TOKEN", "SQL_DSN",
                     "LITELLM_MASTER_KEY", "LLMINFRA_CLIENT_KEYS")


def _env_shadowing(stack: Stack) -> Iterator[str]:
    for host_name, gpu in stack.gpu_hosts.items():
        for i, svc in enumerate(gpu.services):
            secret_env = set(svc.secrets(lambda name: name))
            for key in svc.env:
                if key in secret_env:
                    yield line(("gpu_hosts", host_name, "services", i, "env", key),
                               "set from a secret in the service's secrets file; an env entry "
                               "would replace it")
    for gw_name, gw in stack.gateways.items():
        for key in gw.engine_settings.env:
            if key in ENGINE_SECRET_ENV or key.startswith("LLMINFRA_SECRET_"):
                yield line(("gateways", gw_name, gw.engine, "env", key),
                           "set from a secret in the engine's secrets file; an env entry would "
                           "replace it")


# -- risky settings -----------------------------------------------------------------------

def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_unspecified or ip.is_global


_V6_GLOBAL = ipaddress.IPv6Network("2000::/3")  # every global unicast IPv6 address
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
# Shorter prefixes than these admit a large share of the Internet: no allowlist means that.
_BROADEST = {4: 8, 6: 16}


def _mapped_v4(net: ipaddress.IPv6Network) -> ipaddress.IPv4Network:
    first = ipaddress.IPv4Address(int(net.network_address) & 0xFFFFFFFF)
    return ipaddress.IPv4Network(f"{first}/{net.prefixlen - 96}")


def _too_broad(values: list[str]) -> Iterator[tuple[int, str]]:
    """(index, description) of allowlist entries that admit (nearly) everyone: a /0, a
    prefix shorter than /8 (IPv4) or /16 (IPv6) holding public addresses, IPv4-mapped IPv6
    for such a range, or IPv4 entries that only together cover every address."""
    v4: list[tuple[int, ipaddress.IPv4Network]] = []
    found = False
    for i, value in enumerate(values):
        net = cidr_network(value)
        shown = value
        if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(_V4_MAPPED):
            net = _mapped_v4(net)
            shown = f"{value} (IPv4-mapped {net})"
        if isinstance(net, ipaddress.IPv4Network):
            v4.append((i, net))
        public = net.overlaps(_V6_GLOBAL) if net.version == 6 else not net.is_private
        limit = _BROADEST[net.version]
        if net.prefixlen == 0:
            found = True
            yield i, shown
        elif public and net.prefixlen < limit:
            found = True
            yield i, f"{shown} (shorter than /{limit}, so nearly everyone)"
    if not found and v4 and any(
            n.prefixlen == 0 for n in ipaddress.collapse_addresses(n for _, n in v4)):
        yield v4[0][0], f"allow list entries {v4[0][0]}..{v4[-1][0]} (together all of IPv4)"


def _risks_present(stack: Stack) -> Iterator[tuple[Loc, str, Loc, str]]:
    """(host location, risk, field location, what exactly)."""
    for name, gpu in stack.gpu_hosts.items():
        for i, svc in enumerate(gpu.services):
            bind = stack.service_bind(gpu, svc)
            if not _is_public(bind):
                continue
            if not svc.client_key():
                yield (("gpu_hosts", name), "public_model_port",
                       ("gpu_hosts", name, "services", i, "bind"),
                       f"port {svc.port} is published on {bind} and the service asks for no "
                       "api_key: anyone who reaches the host can use the model")
            elif svc.unguarded_routes:
                yield (("gpu_hosts", name), "public_model_port",
                       ("gpu_hosts", name, "services", i, "bind"),
                       f"port {svc.port} is published on {bind} and {svc.tag()} checks api_key "
                       f"on /v1 only: {', '.join(svc.unguarded_routes)} answer anyone who "
                       "reaches the host (bind a private address, or use reach: tunnel)")
    for name, gw in stack.gateways.items():
        bind = gw.engine_settings.api_bind
        if not ipaddress.ip_address(bind).is_loopback:
            key = "admin_bind" if gw.engine == "oneapi" else "bind"
            yield (("gateways", name), "public_admin", ("gateways", name, gw.engine, key),
                   f"{bind} publishes the {gw.engine} admin port beyond the gateway's loopback")
        for i, who in _too_broad(gw.nginx.admin_allow_cidrs):
            yield (("gateways", name), "public_admin",
                   ("gateways", name, "nginx", "admin_allow_cidrs", i),
                   f"{who} serves the gateway's web UI and admin API to every address")
        for gpu_name, gpu in stack.gpu_hosts.items():
            if stack.gateway_for(gpu) != name or gpu.reach != "tunnel":
                continue
            user = gw.tunnel_user
            if user in LOGIN_USERS or user == gpu.ssh.user:
                yield (("gateways", name), "login_tunnel_user", ("gateways", name, "tunnel_user"),
                       f"{user!r} is a login user on {gpu_name}: the tunnel key goes into its "
                       "authorized_keys")
                break
    for name, relay in stack.relays.items():
        for i, who in _too_broad(relay.access.allow_cidrs):
            yield (("relays", name), "open_relay", ("relays", name, "access", "allow_cidrs", i),
                   f"{who} lets every address use the relay (and the provider keys "
                   "behind it)")


def _risky(stack: Stack) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    used: set[tuple[Loc, str]] = set()
    for host_loc, risk, loc, what in _risks_present(stack):
        host = stack.host(str(host_loc[1]))
        if risk in host.allow_risky:
            warnings.append(line(loc, f"{what} (allowed by allow_risky: {risk})"))
            used.add((host_loc, risk))
        else:
            errors.append(line(loc, f"{what}; refused unless the host lists {risk} in "
                               "allow_risky"))
    for section in ("gpu_hosts", "gateways", "relays"):
        for name, host in getattr(stack, section).items():
            for i, risk in enumerate(host.allow_risky):
                if ((section, name), risk) not in used:
                    errors.append(line((section, name, "allow_risky", i),
                                       f"{risk}: nothing on this host needs it ({RISKS[risk]}); "
                                       "remove it"))
    return errors, warnings


# -- operator-side SSH files --------------------------------------------------------------

def check_ssh_files(stack: Stack) -> list[str]:
    """Private keys and known_hosts files named by the inventory exist, are readable and
    hold what they should (a key pyinfra and the admin tunnel can load, parseable lines)."""
    from .sshfiles import known_hosts_problem, private_key_problem

    errors: list[str] = []
    for section in ("gpu_hosts", "gateways", "relays"):
        for name, host in getattr(stack, section).items():
            ssh = host.ssh
            loc: Loc = (section, name, "ssh")
            if ssh.key:
                password = None
                if ssh.key_password and stack.secrets.has(ssh.key_password):
                    password = stack.secrets.get(ssh.key_password)
                problem = private_key_problem(Path(ssh.key), password, bool(ssh.key_password))
                if problem:
                    errors.append(line(loc + ("key",), problem))
            elif ssh.key_password:
                errors.append(line(loc + ("key_password",), "only used with key"))
            if ssh.known_hosts:
                problem = known_hosts_problem(Path(ssh.known_hosts))
                if problem:
                    errors.append(line(loc + ("known_hosts",), problem))
    return errors


def check_pins(stack: Stack) -> list[str]:
    """Every host has a pinned key. The deploy (and status, clients, backup) connect with
    StrictHostKeyChecking=yes against the pins, so an unpinned host can never be reached: `check`
    and the pyinfra inventory refuse it before any connection. Kept out of `load_stack` so that
    `llminfra hostkey` can show the key to pin on a host that has none yet."""
    errors: list[str] = []
    for section in ("gpu_hosts", "gateways", "relays"):
        for name, host in getattr(stack, section).items():
            if not (host.ssh.host_key or host.ssh.known_hosts):
                errors.append(line((section, name, "ssh", "host_key"),
                                   "no host key pinned (nor known_hosts): the deploy refuses "
                                   f"to connect; `llminfra hostkey INVENTORY {name}` shows the key "
                                   "it presents"))
    return errors
