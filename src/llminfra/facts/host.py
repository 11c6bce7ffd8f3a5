"""A host's packages, paths, units and users in one command, shared by the ops that read them.

pyinfra 3 sends every ``host.get_fact`` call to the host (it keeps no fact cache), so a deploy
of thirty small ops sends thirty-odd commands that each ask one question. Here the kit's ops
ask :func:`observe` instead: the first call on a host reads one :class:`HostState` for
everything the deploy announced with :func:`prefetch` (plus what the op asks; it travels in the
host's fact batch, see :mod:`.batch`), later calls read that answer. The answer is dropped as
soon as any op has executed a command on the host, so an op never decides on state that an
earlier op changed.
"""

from __future__ import annotations

import posixpath
from typing import Any

from pyinfra import host
from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.host import host_state

from . import batch

KINDS = ("packages", "paths", "units", "users")


class HostState(FactBase[dict[str, dict[str, Any]]]):
    """
    Installed packages, path metadata (with sha256 of files), systemd units and users.

    .. code:: python

        {
            "packages": {"nginx": "1.26.3-3"},
            "paths": {"/etc/nginx/conf.d/x.conf": {"type": "file", "mode": 644,
                      "user": "root", "group": "root", "sha256": "ab12..."}},
            "units": {"nginx": {"active": "active", "enabled": "enabled"}},
            "users": {"llminfra-tunnel": {"uid": 998, "gid": 998, "home": "/home/x",
                      "shell": "/usr/sbin/nologin"}},
        }

    A path asked about is always in ``paths`` (``type: absent`` if missing); packages and
    users that are not there are missing from their mapping.
    """

    @override
    def default(self):
        return {kind: {} for kind in KINDS}

    @override
    def command(self, packages=(), paths=(), units=(), users=()):
        return host_state(packages, paths, units, users)

    @override
    def process(self, output):
        state = self.default()
        metas: dict[str, tuple[str, str]] = {}
        sums: dict[str, str] = {}
        unit_names: list[str] = []
        blocks: list[dict[str, str]] = [{}]
        for line in output:
            tag, _, rest = line.partition(" ")
            if tag == "pkg":
                parts = rest.split(" ")
                if len(parts) >= 4 and parts[2] == "installed":
                    state["packages"][parts[3]] = " ".join(parts[4:])
            elif tag == "path":
                kind, _mode, _user, _group, _sha, path = rest.split(" ", 5)
                state["paths"][path] = _path(kind)
            elif tag == "meta" and rest.count("\t") >= 2:
                kind, owner, path = rest.split("\t", 2)
                metas[path] = (kind, owner)
            elif tag == "sum" and "  " in rest:
                sha, path = rest.split("  ", 1)
                sums[path] = sha
            elif tag == "unitname":
                unit_names.append(rest)
            elif tag == "unitprop":
                if rest.strip():
                    key, _, value = rest.partition("=")
                    blocks[-1][key] = value.strip()
                elif blocks[-1]:
                    blocks.append({})
            elif tag == "user":
                fields = rest.split(":")
                if len(fields) >= 7:
                    state["users"][fields[0]] = {"uid": int(fields[2]), "gid": int(fields[3]),
                                                 "home": fields[5], "shell": fields[6]}
        for path, (kind, owner) in metas.items():
            state["paths"][path] = _stat(kind, owner, sums.get(path))
        state["units"] = _units(unit_names, [b for b in blocks if b])
        return state


def _path(kind: str, mode: str = "-", user: str = "-", group: str = "-",
          sha: str | None = None) -> dict[str, Any]:
    return {"type": kind, "mode": None if mode == "-" else int(mode),
            "user": None if user == "-" else user, "group": None if group == "-" else group,
            "sha256": sha}


def _stat(kind: str, owner: str, sha: str | None) -> dict[str, Any]:
    """A path `stat` saw: a directory, a regular file (with its sha256: None when it could not
    be read), or anything else (a socket, a device), which no op of the kit manages: absent."""
    mode, user, group = (owner.split(" ") + ["-", "-", "-"])[:3]
    if kind == "directory":
        return _path("dir", mode, user, group)
    if kind.startswith("regular"):
        return _path("file", mode, user, group, sha)
    return _path("absent")


def _units(names: list[str], blocks: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each unit's state from `systemctl show`'s blocks, in the order the names were asked.
    When the counts differ (no systemctl, or it refused a name) nothing can be matched
    safely: every unit is "unknown", which no op reads as running or enabled."""
    if len(blocks) != len(names):
        return {name: {"active": "unknown", "enabled": "unknown"} for name in names}
    out = {}
    for name, props in zip(names, blocks, strict=True):
        enabled = props.get("UnitFileState") or "unknown"
        if props.get("LoadState") == "not-found":
            enabled = "not-found"
        out[name] = {"active": props.get("ActiveState") or "unknown", "enabled": enabled}
    return out


def _asked(items: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {kind: tuple(sorted(set(items.get(kind) or ()))) for kind in KINDS}


def _store(name: str, default):
    """Per-host scratch data kept on the pyinfra Host object for this run."""
    if not hasattr(host, name):
        setattr(host, name, default)
    return getattr(host, name)


def prefetch(**items) -> None:
    """Announce (at prepare time, from deploy code) what this host's ops will ask
    :func:`observe`, so one command answers them all: ``packages=``, ``paths=``, ``units=``,
    ``users=`` (lists of names). Only a hint: an op asking for more still gets its answer."""
    wanted = _store("llminfra_prefetch", {kind: set() for kind in KINDS})
    for kind, values in items.items():
        wanted[kind].update(values)
    # an op writing a file also looks at its directory
    wanted["paths"].update(posixpath.dirname(p) or "/" for p in items.get("paths") or ())
    # one HostState answer, for everything announced so far, joins the host's fact batch
    expected = batch._store()["expected"]
    for key in [k for k in expected if k[0] is HostState]:
        del expected[key]
    batch.expect(HostState, **_asked(wanted))


def wanted(**items):
    """For :func:`llminfra.facts.batch.expecting`: announce ``items`` when the op is called."""
    return lambda: prefetch(**items)


def _executed_ops() -> int:
    """How many ops have executed commands on this host so far (0 outside a real run)."""
    try:
        ops = host.state.ops[host._get_module()]
    except (AttributeError, KeyError, TypeError):
        return 0
    return sum(1 for data in ops.values() if data.operation_meta.executed)


def _complete(state: dict, query: dict) -> dict:
    """Every path and unit asked about has an entry, even if the host's answer lacked it."""
    state = {kind: dict(state.get(kind) or {}) for kind in KINDS}
    for path in query["paths"]:
        state["paths"].setdefault(path, {"type": "absent", "mode": None, "user": None,
                                         "group": None, "sha256": None})
    for unit in query["units"]:
        state["units"].setdefault(unit, {"active": "unknown", "enabled": "unknown"})
    return state


def observe(**items) -> dict[str, dict[str, Any]]:
    """The host's state for ``items`` (``paths=[...]`` etc.): from the answer already on
    hand if it covers them and nothing has executed since, else from one new HostState
    command asking for ``items`` and everything prefetched."""
    asked = _asked(items)
    generation = _executed_ops()
    seen = _store("llminfra_observed", [])
    for done_at, covered, state in seen:
        if done_at == generation and all(set(asked[k]) <= set(covered[k]) for k in KINDS):
            return state
    wanted = _store("llminfra_prefetch", {kind: set() for kind in KINDS})
    query = _asked({kind: set(asked[kind]) | wanted[kind] for kind in KINDS})
    state = _complete(batch.get(HostState, **query), query)
    seen[:] = [entry for entry in seen if entry[0] == generation] + [(generation, query, state)]
    return state
