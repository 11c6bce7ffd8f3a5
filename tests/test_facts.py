"""Fixture tests for llminfra's facts: tests/facts/<module>.<Fact>/*.yaml."""

from pathlib import Path

from pyinfra_testing.facts import make_fact_tests

for folder in sorted((Path(__file__).parent / "facts").iterdir()):
    if folder.is_dir() and "." in folder.name:
        test_class = make_fact_tests("llminfra.facts", folder.name, folder)
        test_class.__name__ = f"TestFact_{folder.name.replace('.', '_')}"
        globals()[test_class.__name__] = test_class
