"""Fixture tests for llminfra's operations: tests/operations/<module>.<op>/*.yaml."""

from pathlib import Path

from pyinfra_testing.operations import make_operation_tests

_cls = None
for folder in sorted((Path(__file__).parent / "operations").iterdir()):
    if folder.is_dir() and "." in folder.name:
        _cls = make_operation_tests("llminfra.operations", folder.name, folder)
        _cls.__name__ = f"TestOperation_{folder.name.replace('.', '_')}"
        globals()[_cls.__name__] = _cls
del _cls  # a TestCase is collected under any name: keep only the named copies
