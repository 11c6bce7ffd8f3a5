"""Fixture tests for llminfra's facts: tests/facts/<module>.<Fact>/*.yaml."""

from pathlib import Path

from pyinfra_testing.facts import make_fact_tests

_cls = None
for folder in sorted((Path(__file__).parent / "facts").iterdir()):
    if folder.is_dir() and "." in folder.name:
        _cls = make_fact_tests("llminfra.facts", folder.name, folder)
        _cls.__name__ = f"TestFact_{folder.name.replace('.', '_')}"
        globals()[_cls.__name__] = _cls
del _cls  # a TestCase is collected under any name: keep only the named copies
