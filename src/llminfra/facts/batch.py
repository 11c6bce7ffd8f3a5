"""Many facts of one host in one command.

pyinfra 3 sends one command per ``host.get_fact`` (it keeps no fact cache). The kit's ops
announce the facts they will read when deploy code calls them (:func:`expecting`); the first
op that reads one (:func:`get`) sends a single :class:`Batch` command holding every announced
fact that has not been read yet, and the others' answers wait for their ops.

Batching is the no-change fast path: answers are kept only while no op of the run has executed
a command on any host. From the first change on, what was gathered is dropped and every read is
live, one command each, as in plain pyinfra (an op on one host may change what a probe on
another sees). Without ``-y`` pyinfra runs each op's body twice (to show the plan, then to
execute); the second run reads the answers of the first while nothing has changed. A fact that
failed inside the batch is read again on its own, so its error is reported as pyinfra reports
it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from pyinfra import context, host
from pyinfra.context import ctx_host, ctx_state
from pyinfra.api import FactBase, StringCommand
from pyinfra.api.exceptions import FactProcessError
from typing_extensions import override

MARK = "@@llminfra-batch"
MISSING = "@@llminfra-missing-command"

Key = tuple[type, tuple[tuple[str, Any], ...]]


def _key(cls: type, kwargs: dict[str, Any]) -> Key:
    return cls, tuple(sorted(kwargs.items(), key=lambda item: item[0]))


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _command(cls: type, kwargs: dict[str, Any]):
    fact = cls()
    command = fact.command(**kwargs) if callable(fact.command) else fact.command
    requires = fact.requires_command
    requires = requires(**kwargs) if callable(requires) else requires
    if requires:  # as pyinfra does it: tell "binary absent" from "no output"
        return StringCommand("if command -v", requires, ">/dev/null 2>&1; then (", command,
                             "); else echo", f"'{MISSING}';", "fi")  # fmt: skip
    return command


class Batch(FactBase[list[tuple[int, list[str]]]]):
    """
    The output of several fact commands, run side by side: per fact its exit status and its
    stdout lines, in the order asked.
    """

    @override
    def default(self):
        return []

    @override
    def command(self, facts):
        # side by side (the commands only read), each into its own file, printed in order after
        parts: list[Any] = ["d=$(mktemp -d) || exit 1;"]
        for index, (cls, items) in enumerate(facts):
            parts += ["( (", _command(cls, dict(items)), f") >\"$d/{index}\" 2>/dev/null;",
                      f"echo $? >\"$d/{index}.rc\" ) &"]
        parts += ["wait;", f"for i in $(seq 0 {len(facts) - 1}); do echo \"{MARK} $i\";",
                  'cat "$d/$i"; [ -n "$(tail -c1 "$d/$i")" ] && echo;',  # a last line without \n
                  f'echo "{MARK}-status $i $(cat "$d/$i.rc")"; done;',
                  'rm -rf "$d"']
        return StringCommand(*parts)

    @override
    def process(self, output):
        results: list[tuple[int, list[str]]] = []
        lines: list[str] = []
        for line in output:
            if line.startswith(f"{MARK}-status "):
                results.append((int(line.rsplit(" ", 1)[1]), lines))
            elif line.startswith(f"{MARK} "):
                lines = []
            else:
                lines.append(line)
        return results


def executed_anywhere() -> int:
    """Ops that executed commands so far, on every host (0 outside a real run)."""
    try:
        return sum(1 for ops in host.state.ops.values() for data in ops.values()
                   if data.operation_meta.executed)
    except (AttributeError, TypeError):
        return 0


def _store() -> dict[str, Any]:
    """Per-host bookkeeping kept on the pyinfra Host object for this run."""
    if not hasattr(host, "llminfra_batch"):
        host.llminfra_batch = {"expected": {}, "answers": {}, "static": {}}
    return host.llminfra_batch


def expect(cls: type, **kwargs) -> None:
    """Announce that an op will read fact ``cls(**kwargs)`` on this host."""
    _store()["expected"][_key(cls, {k: _hashable(v) for k, v in kwargs.items()})] = kwargs


def _value(cls: type, kwargs: dict[str, Any], status: int, lines: list[str]) -> tuple[bool, Any]:
    """(ok, value) of one fact's share of a batch, as pyinfra's own gathering would give it."""
    if status != 0:
        return False, None
    fact = cls()
    if callable(fact.command):
        fact.command(**kwargs)  # some facts keep what their command set up (pyinfra's FileContents)
    if lines == [MISSING]:
        return True, fact.default()
    if not lines:
        return True, fact.default()
    try:
        return True, fact.process(lines)
    except FactProcessError:
        return False, None


def _gather(asked: list[tuple[Key, dict[str, Any]]]) -> dict[Key, Any]:
    """One Batch command for ``asked``; the answers that came back whole."""
    if len(asked) == 1:  # one fact: its own command, as pyinfra sends it
        (key, kwargs), = asked
        return {key: host.get_fact(key[0], **kwargs)}
    results = host.get_fact(Batch, facts=tuple((k[0], tuple(sorted(kw.items())))
                                               for k, kw in asked))
    answers = {}
    for (key, kwargs), result in zip(asked, results, strict=False):
        ok, value = _value(key[0], kwargs, *result)
        if ok:
            answers[key] = value
    return answers


def _pending(store: dict[str, Any]) -> list[tuple[Key, dict[str, Any]]]:
    return [(k, kw) for k, kw in store["expected"].items() if k not in store["answers"]]


def gather_ahead() -> None:
    """At the end of a host's deploy code: read everything its ops announced now, in the
    background, so all hosts are read at once rather than each when its first op's turn comes
    (a gateway's turn comes after every GPU host's services)."""
    store = _store()
    pending = _pending(store)
    if executed_anywhere() or store.get("ahead") is not None or not pending:
        return
    here, run = host._get_module(), context.state._get_module()

    def gather() -> dict[Key, Any]:
        with ctx_state.use(run), ctx_host.use(here):
            return _gather(pending)

    store["ahead"] = gevent.spawn(gather)


def _collect_ahead(store: dict[str, Any]) -> None:
    ahead = store.pop("ahead", None)
    if ahead is not None:
        try:
            answers = ahead.get()
        except Exception:  # noqa: BLE001 - a failed read ahead only means reading live
            return
        for key, value in answers.items():
            store["answers"].setdefault(key, value)
            store["expected"].pop(key, None)


def get(cls: type, **kwargs) -> Any:
    """Fact ``cls(**kwargs)`` on this host: from the batch while nothing has changed anywhere
    yet (gathering, on the first read, every announced fact in one command), else live."""
    store = _store()
    key = _key(cls, {k: _hashable(v) for k, v in kwargs.items()})
    _collect_ahead(store)
    store["expected"].pop(key, None)
    if executed_anywhere():  # something changed: what was gathered may be stale
        store["answers"].clear()
        return host.get_fact(cls, **kwargs)
    if key not in store["answers"]:
        others = _pending(store)
        answers = _gather([(key, kwargs), *others]) if others else {}
        store["answers"].update(answers)
        for other, _ in others:
            store["expected"].pop(other, None)
        if key not in answers:  # alone, or failed in the batch: as pyinfra reads it
            store["answers"][key] = host.get_fact(cls, **kwargs)
    return store["answers"][key]


def static(cls: type, **kwargs) -> Any:
    """A fact that does not change during a run (the OS, the login user's powers): gathered
    once per host, whoever asks."""
    key = _key(cls, {k: _hashable(v) for k, v in kwargs.items()})
    store = _store()["static"]
    if key not in store:
        store[key] = host.get_fact(cls, **kwargs)
    return store[key]


def expecting(facts_of: Callable[..., Iterable[Any]]) -> Callable[[Any], Any]:
    """Decorate an ``@operation``: calling it from deploy code announces the facts its body will
    read. ``facts_of(**arguments)`` gets the op's bound arguments (defaults filled in) and
    returns ``[(FactClass, kwargs), ...]`` (or callables announcing more, like
    :func:`llminfra.facts.host.wanted`). Tests calling ``op._inner`` announce nothing."""

    def wrap(op: Any) -> Any:
        signature = inspect.signature(op._inner)

        @functools.wraps(op)
        def call(*args: Any, **kwargs: Any) -> Any:
            plain = {k: v for k, v in kwargs.items() if k != "name" and not k.startswith("_")}
            try:
                bound = signature.bind(*args, **plain)
            except TypeError:
                return op(*args, **kwargs)  # pyinfra reports the bad call
            bound.apply_defaults()
            for item in facts_of(**bound.arguments):
                if callable(item):  # e.g. host.wanted(paths=[...]): announce HostState items
                    item()
                else:
                    expect(item[0], **item[1])
            return op(*args, **kwargs)

        return call

    return wrap


def read(fact: tuple[type, dict[str, Any]]) -> Any:
    """:func:`get` for a ``(FactClass, kwargs)`` pair (as an op's ``facts_of`` returns them)."""
    return get(fact[0], **fact[1])
