"""Read a stack file, validate everything, and report every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import StackError, line
from .secrets import Secrets
from .services import TAGS
from .stack import Stack
from .validate import check_local_files, check_secrets, check_stack


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise StackError([f"stack: line {key_node.start_mark.line + 1}: duplicate key "
                              f"{key!r} (first at line {seen[key]})"])
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "is required",
}


def pydantic_lines(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
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
                    msg = f"{msg} (got {shown!r})"
        if err["type"] == "union_tag_invalid":
            msg = f"unknown kind {err['ctx'].get('tag')!r} (expected {err['ctx'].get('expected_tags')})"
        if err["type"] not in ("value_error", "assertion_error") and msg:
            msg = msg[0].lower() + msg[1:]
        out.append(line(loc, msg))
    return out


def _local(base: Path, value: str) -> str:
    path = Path(value).expanduser()
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


def parse_stack(data: Any, source: Path | None = None, environ: dict[str, str] | None = None,
                check_secret_values: bool = True, secrets_file: Path | None = None) -> Stack:
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
    if check_secret_values:
        errors += check_secrets(stack)
    if errors:
        raise StackError(errors)
    return stack


def load_stack(path: str | Path, environ: dict[str, str] | None = None,
               check_secret_values: bool = True, secrets_file: Path | None = None) -> Stack:
    """Load and fully validate a stack file; raises StackError with every problem found."""
    path = Path(path)
    if path.suffix == ".py":
        path = path.with_suffix(".yml")
    try:
        text = path.read_text()
    except OSError as exc:
        raise StackError([f"stack: cannot read {path}: {exc.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise StackError([f"stack: {where}invalid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_stack(data, path.resolve(), environ, check_secret_values, secrets_file)
