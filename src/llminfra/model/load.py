"""Read a stack file, validate everything, and report every problem at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import StackError, line
from .secrets import Secrets
from .services import TAGS
from .stack import Stack
from .safety import check_safety, check_ssh_files
from .tlsfiles import check_tls_files
from .secret_values import check_secret_values as check_values  # a parameter has its name
from .validate import check_local_files, check_secrets, check_stack


MAX_BYTES = 4 * 1024 * 1024  # a stack file is a few KB; anything near this is a mistake
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" before validation


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate or unhashable mapping keys, deep nesting and alias
    bombs, and hands impossible dates on as text (the model then names the field)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise StackError([f"stack: line {mark.line + 1}: nested deeper than "
                                  f"{MAX_DEPTH} levels"])
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[tuple[type, Any], int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        where = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise StackError([f"stack: line {where}: a mapping key should be a plain "
                              "value, not a list or mapping"]) from None
        typed = (type(key), key)  # 1 and true are equal in Python, not in the file
        if typed in seen:
            raise StackError([f"stack: line {where}: duplicate key {key!r} "
                              f"(first at line {seen[typed]})"])
        seen[typed] = where
    return loader.construct_mapping(node)


def _timestamp(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


# YAML 1.1 reads 22:00 as 1320 (base 60), 010 as 8, 0x16 as 22 and 1_000 as 1000: a port or a
# GPU index written that way would silently become another number. Only plain decimals pass.
_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
                            r"|\.(nan|NaN|NAN)")


def _strict_number(loader: _UniqueKeyLoader, node: yaml.ScalarNode, pattern: re.Pattern[str],
                   construct: Any) -> Any:
    value = construct(node)
    text = str(loader.construct_scalar(node)).strip()
    if not pattern.fullmatch(text):
        raise StackError([f"stack: line {node.start_mark.line + 1}: {text!r} is the number "
                          f"{value} to YAML 1.1 (base 60, octal, hex or '_'): write it in "
                          "decimal, or quote it if it is text"])
    return value


def _int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
    return _strict_number(loader, node, _DECIMAL_INT, loader.construct_yaml_int)


def _float(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
    return _strict_number(loader, node, _DECIMAL_FLOAT, loader.construct_yaml_float)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _float)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document has once aliases are expanded; refuses recursive aliases."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise StackError([f"stack: line {node.start_mark.line + 1}: an alias refers to "
                              "the node that contains it"])
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = min(total, MAX_NODES + 1)
        return sizes[key]

    return size(root)


def parse_yaml(text: str) -> Any:
    """YAML text to plain data, or StackError: never another exception."""
    loader = None
    try:
        loader = _UniqueKeyLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise StackError([f"stack: the document expands to more than {MAX_NODES} values "
                              "(aliases repeating aliases?)"])
        return loader.construct_document(node)
    except StackError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StackError([f"stack: {where}invalid YAML ({problem})"]) from None
    except RecursionError:
        raise StackError([f"stack: nested deeper than {MAX_DEPTH} levels"]) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. `!!int abc`, or an integer with more digits than Python converts
        raise StackError([f"stack: invalid YAML value ({str(exc).split(':')[0][:120]})"]) from None
    finally:
        if loader is not None:
            loader.dispose()


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "is required",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + "...(" + str(len(text)) + " characters)"


_SCALAR_TAGS = {"int", "str", "float", "bool", "none", "constrained-int", "constrained-str"}
# Union member labels (in error locations) that fit a value of each YAML type.
_BRANCH_FOR = {list: ("list",), dict: ("dict",), str: ("literal", "str", "function"),
               int: ("int", "constrained-int"), float: ("float",)}


def _looks_like_tag(part: object) -> bool:
    return isinstance(part, str) and part != "[key]" and ("[" in part or part in _SCALAR_TAGS)


def _union_errors(errors: list[Any]) -> list[Any]:
    """A value that fits no member of a union (`gpus: [true]` against `list | 'cpu'`) fails
    once per member. Keep the member matching the value's own YAML type; when none does,
    one error saying every accepted form."""
    groups: dict[tuple[Any, ...], list[tuple[str, Any]]] = {}
    for err in errors:
        tags = [i for i, p in enumerate(err["loc"]) if _looks_like_tag(p)]
        if tags:
            i = tags[0]
            groups.setdefault(tuple(err["loc"][:i]), []).append((err["loc"][i], err))
    out = []
    done: set[tuple[Any, ...]] = set()
    for err in errors:
        tags = [i for i, p in enumerate(err["loc"]) if _looks_like_tag(p)]
        if not tags:
            out.append(err)
            continue
        prefix = tuple(err["loc"][:tags[0]])
        if prefix in done:
            continue
        done.add(prefix)
        members = groups[prefix]
        whole = [e for tag, e in members if len(e["loc"]) == len(prefix) + 1]
        value = whole[0].get("input") if whole else []
        wanted = _BRANCH_FOR.get(type(value), ())
        chosen = [e for tag, e in members if wanted and tag.startswith(wanted)]
        if chosen:
            out.extend(chosen)
            continue
        forms = [e["msg"].removeprefix("Input should be ") for e in whole]
        out.append({**whole[0], "type": "union", "msg": "Input should be " + " or ".join(forms)}
                   if whole else members[0][1])
    return out


def pydantic_lines(exc: ValidationError) -> list[str]:
    out = []
    for err in _union_errors(exc.errors()):
        err = {**err, "loc": [p for p in err["loc"] if not _looks_like_tag(p)]}
        raw = list(err["loc"])
        # drop discriminator tags (services/0/vllm/port) and pydantic's dict-key marker
        loc = [p for i, p in enumerate(raw)
               if p != "[key]" and not (p in TAGS and i > 0 and isinstance(raw[i - 1], int))]
        msg = _MESSAGES.get(err["type"])
        if msg is None:
            msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            if err["type"] not in ("value_error", "assertion_error") and "input" in err:
                shown = err["input"]
                if not isinstance(shown, (dict, list)):
                    msg = f"{msg} (got {_short(shown)})"
        if err["type"] == "union_tag_invalid":
            msg = f"unknown kind {err['ctx'].get('tag')!r} (expected {err['ctx'].get('expected_tags')})"
        if err["type"] not in ("value_error", "assertion_error") and msg:
            msg = msg[0].lower() + msg[1:]
        out.append(line(loc, msg))
    return out


def _local(base: Path, value: str) -> str:
    path = Path(value)
    try:
        path = path.expanduser()
    except RuntimeError:  # ~someone who has no home here: check_local_files reports it
        return value
    return str(path if path.is_absolute() else (base / path).resolve())


def resolve_local_paths(stack: Stack, base: Path) -> None:
    """Operator-side files named in the stack are relative to the stack file."""
    for _, _, tls in stack.tls_settings():
        if tls.cert_file:
            tls.cert_file = _local(base, tls.cert_file)
        if tls.key_file:
            tls.key_file = _local(base, tls.key_file)
    for gw in stack.gateways.values():
        for engine in (gw.oneapi, gw.litellm):
            if engine is not None:
                engine.trust_ca_files = [_local(base, f) for f in engine.trust_ca_files]
    for name in [*stack.gpu_hosts, *stack.gateways, *stack.relays]:
        ssh = stack.host(name).ssh
        if ssh.key:
            ssh.key = _local(base, ssh.key)
        if ssh.known_hosts:
            ssh.known_hosts = _local(base, ssh.known_hosts)


def parse_stack(data: Any, source: Path | None = None, environ: dict[str, str] | None = None,
                check_secret_values: bool = True, secrets_file: Path | None = None,
                example_ok: bool = False) -> Stack:
    """`example_ok`: placeholders read from a `*.example` secrets file are warnings, not
    errors (`check` and `render` of the committed examples; every other command refuses)."""
    if not isinstance(data, dict):
        raise StackError(["stack: the file should hold a mapping (gpu_hosts, gateways, relays, ...)"])
    try:
        stack = Stack.model_validate(data)
    except ValidationError as exc:
        raise StackError(pydantic_lines(exc)) from None
    stack._source = source
    base = source.parent if source else Path.cwd()
    stem = source.stem if source else "stack"
    if secrets_file is None:
        secrets_file = base / (stack.secrets_file or f"{stem}.secrets.env")
    stack._secrets = Secrets(secrets_file, environ)
    resolve_local_paths(stack, base)
    errors = check_stack(stack) + check_local_files(stack)
    safety_errors, stack._warnings = check_safety(stack)
    errors += safety_errors
    tls_errors, tls_warnings = check_tls_files(stack)
    errors += tls_errors
    stack._warnings += tls_warnings
    if check_secret_values:
        errors += check_secrets(stack) + check_ssh_files(stack)
        value_errors, value_warnings = check_values(stack, example_ok)
        errors += value_errors
        stack._warnings += value_warnings
    if errors:
        raise StackError(errors)
    return stack


def read_text(path: Path, what: str = "stack") -> str:
    """A small UTF-8 text file, or StackError naming why not."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise StackError([f"{what}: {path} is not a regular file"])  # a FIFO would block
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise StackError([f"{what}: {path} is a directory, not a file"]) from None
    except OSError as exc:
        raise StackError([f"{what}: cannot read {path}: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_BYTES:
        raise StackError([f"{what}: {path} is larger than {MAX_BYTES // 1024 // 1024} MiB"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StackError([f"{what}: {path} is not UTF-8 text (byte {exc.start})"]) from None


def load_stack(path: str | Path, environ: dict[str, str] | None = None,
               check_secret_values: bool = True, secrets_file: Path | None = None,
               example_ok: bool = False) -> Stack:
    """Load and fully validate a stack file; raises StackError with every problem found."""
    path = Path(path)
    if path.suffix == ".py":
        path = path.with_suffix(".yml")
    data = parse_yaml(read_text(path))
    return parse_stack(data, path.resolve(), environ, check_secret_values, secrets_file,
                       example_ok)
