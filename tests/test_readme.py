"""The README's reference section is generated from the model: it must match exactly."""

from pathlib import Path

from llminfra.reference import BEGIN, END, reference_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_reference_matches_the_model():
    text = README.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == reference_markdown(), (
        "README reference is stale: run `python -m llminfra.reference_sync`")


def test_readme_names_the_test_command_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 -m pytest" in README.read_text()
    assert "python3 -m pytest" in ci
