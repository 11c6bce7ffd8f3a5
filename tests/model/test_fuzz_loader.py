"""Property tests of the loader: whatever the bytes, the YAML or the values, the result is a
Stack or a StackError (never another exception), and a stack `check` accepts renders.

Bounded for CI: a fixed number of examples per property, derandomized so a failure
reproduces, no example database written.
"""

import copy
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llminfra.model import Stack, StackError, load_stack, parse_stack
from llminfra.render import render_all

N = 100
FUZZ = settings(max_examples=N, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
RUN = {"examples": 0, "rendered": 0}

# Scalars that trip parsers: control characters, separators, huge and odd numbers, dates.
TRICKY = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable + "\x00\x07\x1b\u2028\ufeff,;'\"$`\\", max_size=40),
    st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.1/8", "../..", "/opt/../etc", "a,b",
                     "2027-02-30", "root", "ssh-ed25519 AAAA", "http://x\n", "*", "-1", "",
                     "x" * 300, "fd00::1", "[::1]:22", "8000", "cpu", "unlimited"]),
    st.dates(),
)
VALUES = st.recursive(TRICKY, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)

# Values close to valid ones, so some edited stacks pass `check` and go on to render.
NEAR = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9._:/@+-]{0,20}", fullmatch=True), st.integers(0, 70000),
    st.booleans(), st.sampled_from([
        "/opt/x", "10.0.0.9", "::", "127.0.0.1", "x.example.com", "https://m.example.com/simple",
        "fd00::9", "10.0.0.0/8", "fd00::/8", "cpu", [0], [1], "16g", "5m", "v1.2.3", "Q/q-7b",
        ["a", "b"], {"A": "1"}, "llama3:8b", "/models/x", "X-Key", "ops@example.com"]),
)


@pytest.fixture(params=["oneapi", "litellm"])
def start(base, request):
    """The test stack, on each gateway engine (their renderers differ)."""
    if request.param == "litellm":
        base["gateways"]["gw-1"].update(
            engine="litellm", litellm={"master_key": "SESSION", "client_key_secret": "ROOT_TOKEN"})
    return base


def _paths(obj, prefix=()):
    """Every location in a document (mapping keys and list indices)."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _outcome(load):
    RUN["examples"] += 1
    try:
        return load()
    except StackError as exc:
        assert exc.lines and all(isinstance(line, str) and line for line in exc.lines)
        return None


@FUZZ
@given(data=st.binary(max_size=2000))
def test_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "stack.yml"
    path.write_bytes(data)
    _outcome(lambda: load_stack(path, environ={}))


@FUZZ
@given(doc=VALUES)
def test_any_yaml_document(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "stack.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    _outcome(lambda: load_stack(path, environ={}))


@FUZZ
@given(text=st.text(alphabet="{}[]:,-&*!|>'\"#%@`? \n\tabc01", max_size=300))
def test_yaml_syntax_soup(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "stack.yml"
    path.write_text(text)
    _outcome(lambda: load_stack(path, environ={}))


@FUZZ
@given(data=st.data())
def test_any_value_anywhere_and_accepted_stacks_render(start, secrets, data):
    paths = [p for p in _paths(start) if p]
    edits = data.draw(st.lists(st.tuples(st.sampled_from(paths), st.one_of(NEAR, VALUES)),
                               min_size=1, max_size=3))
    doc = copy.deepcopy(start)
    for path, value in edits:
        try:
            _set(doc, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the container
    stack = _outcome(lambda: parse_stack(doc, environ=dict(secrets)))
    if stack is not None:
        assert isinstance(stack, Stack)
        render_all(stack)  # what check accepted, render never refuses
        RUN["rendered"] += 1


@FUZZ
@given(data=st.data())
def test_one_near_valid_edit_renders_when_accepted(start, secrets, data):
    path = data.draw(st.sampled_from([p for p in _paths(start) if p]))
    doc = copy.deepcopy(start)
    _set(doc, path, data.draw(NEAR))
    stack = _outcome(lambda: parse_stack(doc, environ=dict(secrets)))
    if stack is not None:
        render_all(stack)
        RUN["rendered"] += 1


def test_fuzz_ran(capsys):
    # Runs last in this module (pytest keeps file order): the count for the CI log.
    with capsys.disabled():
        print(f"\nloader fuzz: {RUN['examples']} examples, {RUN['rendered']} accepted and "
              "rendered")
    assert RUN["examples"] >= 7 * N or RUN["examples"] == 0
