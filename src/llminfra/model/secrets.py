"""Secrets are referenced by name in the stack file and resolved from the environment
or a git-ignored dotenv file. Values never reach repr(), logs or non-secret files."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path


class SecretValue(str):
    """A str whose repr is masked, so a stray print or log line cannot leak it."""

    def __repr__(self) -> str:
        return "SecretValue('***')"


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _value(raw: str) -> tuple[str, str | None]:
    """(value, problem) of what follows `NAME=`. Problems never quote the value."""
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        if end < 0:
            return raw, "has an opening quote without its closing one"
        rest = raw[end + 1:].strip()
        if rest and not rest.startswith("#"):
            return raw, "has text after its closing quote"
        value = raw[1:end]
        if quote == '"' and "\\" in value:
            return value, ("holds a backslash inside double quotes (dotenv tools differ on "
                           "escapes): use single quotes")
        return value, None
    if " #" in raw or "\t#" in raw:
        return raw, ("holds ' #', an inline comment to some dotenv tools and part of the value "
                     "to others: quote the value or put the comment on its own line")
    return raw, None


def read_dotenv(text: str) -> tuple[dict[str, str], list[str]]:
    """(values, problems) of a dotenv file: `NAME=value`, optional `export `, `#` comments,
    values optionally in matching single or double quotes (taken literally). Only `\\n` ends a
    line (a stray form feed or U+2028 inside a value must not split it) and a CRLF file reads
    like an LF one. Problems name the line and variable, never a value."""
    values: dict[str, str] = {}
    first: dict[str, int] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        entry = raw.removesuffix("\r").strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("export "):
            entry = entry[len("export "):].lstrip()
        key, sep, rest = entry.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"line {number} is not NAME=value")
            continue
        if not _NAME.match(key):
            # the text is not shown: a pasted secret holding '=' would land here
            problems.append(f"line {number}: the text before '=' is not a variable name")
            continue
        value, problem = _value(rest)
        if problem:
            problems.append(f"line {number}: {key} {problem}")
        if key in first:
            problems.append(f"line {number}: {key} is set again (first at line {first[key]}): "
                            "keep one")
        first.setdefault(key, number)
        values[key] = value
    return values, problems


def parse_dotenv(text: str) -> dict[str, str]:
    """The values of a dotenv file the kit wrote itself (problems are not expected there)."""
    return read_dotenv(text)[0]


MAX_FILE = 1024 * 1024


def _read_file(file: Path) -> tuple[dict[str, str], list[str]]:
    """(values, problems): a secrets file that cannot be read is a problem, not a traceback."""
    try:
        if not file.exists():
            return {}, []
        if file.is_dir():
            return {}, [f"{file} is a directory, not a file"]
        if not file.is_file():
            return {}, [f"{file} is not a regular file"]
        with file.open("rb") as fh:
            raw = fh.read(MAX_FILE + 1)
    except OSError as exc:
        return {}, [f"cannot read {file}: {exc.strerror or exc}"]
    if len(raw) > MAX_FILE:
        return {}, [f"{file} is larger than 1 MiB"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, [f"{file} is not UTF-8 text (byte {exc.start})"]
    values, problems = read_dotenv(text)
    return values, [f"{file}: {p}" for p in problems]


class Secrets:
    """Looks a secret up in the environment and in the secrets file. A name set in both
    with different values is a conflict (`conflicts()`), never a silent precedence."""

    def __init__(self, file: Path | None, environ: dict[str, str] | None = None):
        self.file = file
        self._env = dict(os.environ if environ is None else environ)
        self._file_values: dict[str, str] = {}
        self.problems: list[str] = []
        if file is not None:
            self._file_values, self.problems = _read_file(file)

    def conflicts(self, name: str) -> bool:
        env, in_file = self._env.get(name), self._file_values.get(name)
        return bool(env and in_file and env != in_file)

    def where(self) -> str:
        return f"environment and {self.file}" if self.file else "environment"

    def has(self, name: str) -> bool:
        return bool(self._env.get(name) or self._file_values.get(name))

    def from_example(self, name: str) -> bool:
        """The value comes from a committed `*.example` file (a list of placeholders)."""
        return bool(self.file and self.file.suffix == ".example" and not self._env.get(name)
                    and self._file_values.get(name))

    def get(self, name: str) -> SecretValue:
        value = self._env.get(name) or self._file_values.get(name)
        if not value:
            raise KeyError(f"secret {name} is not set (looked in {self.where()})")
        return SecretValue(value)

    def file_is_private(self) -> bool:
        # *.example files hold placeholders and are committed; git cannot store mode 0600.
        if self.file is None or self.problems or self.file.suffix == ".example":
            return True
        try:
            return stat.S_IMODE(self.file.stat().st_mode) & 0o077 == 0
        except OSError:
            return True  # absent: nothing to protect

    def __repr__(self) -> str:
        return f"Secrets(file={self.file!s}, names=***)"
