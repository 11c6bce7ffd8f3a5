"""Service kinds: every kind defined is registered, and registration is all the loader, error
paths and reference need."""

import importlib
import pkgutil

import pytest

import llminfra.model.services as services
from llminfra.model import StackError, parse_stack
from llminfra.model.services import KINDS, TAGS, ServiceBase
from llminfra.reference import SECTIONS


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_kind_defined_in_the_package_is_registered():
    for mod in pkgutil.iter_modules(services.__path__):
        importlib.import_module(f"{services.__name__}.{mod.name}")
    defined = {c for c in all_subclasses(ServiceBase) if c.__module__.startswith(services.__name__)}
    assert defined == set(KINDS)
    assert len(set(TAGS)) == len(TAGS)


@pytest.mark.parametrize("tag", TAGS)
def test_error_paths_never_show_the_kind_tag(base, secrets, tag):
    base["gpu_hosts"]["gpu-1"]["services"] = [
        {"kind": tag, "name": "svc", "port": "eighty", "gpus": "cpu", "no_such_key": 1}]
    with pytest.raises(StackError) as exc:
        parse_stack(base, environ=secrets)
    lines = exc.value.lines
    assert "gpu-1: services/0/port: input should be a valid integer (got 'eighty')" in lines
    assert "gpu-1: services/0/no_such_key: unknown key" in lines
    assert not [ln for ln in lines if f"/{tag}/" in ln or f"/{tag}:" in ln], lines


def test_unknown_kind_names_every_registered_kind(base, secrets):
    base["gpu_hosts"]["gpu-1"]["services"][0]["kind"] = "tgi"
    with pytest.raises(StackError) as exc:
        parse_stack(base, environ=secrets)
    expected = ", ".join(repr(t) for t in TAGS)
    assert f"gpu-1: services/0: unknown kind 'tgi' (expected {expected})" in exc.value.lines


def test_reference_has_one_section_per_kind():
    models = [model for _, model in SECTIONS]
    assert [k for k in models if k in KINDS] == list(KINDS)
    titles = [title for title, model in SECTIONS if model in KINDS]
    assert all(f"kind: {k.tag()}`" in t for t, k in zip(titles, KINDS, strict=True))


@pytest.mark.parametrize("kind", KINDS, ids=TAGS)
def test_every_kind_says_how_it_runs(kind):
    # the base's hooks raise; a registered kind must override the two it cannot default
    assert kind.runtime is not ServiceBase.runtime
    assert kind.served is not ServiceBase.served
