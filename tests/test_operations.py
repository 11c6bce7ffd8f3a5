"""Fixture tests for llminfra's operations: tests/operations/<module>.<op>/*.yaml."""

from pathlib import Path

from pyinfra_testing.operations import make_operation_tests

for folder in sorted((Path(__file__).parent / "operations").iterdir()):
    if folder.is_dir() and "." in folder.name:
        test_class = make_operation_tests("llminfra.operations", folder.name, folder)
        test_class.__name__ = f"TestOperation_{folder.name.replace('.', '_')}"
        globals()[test_class.__name__] = test_class
