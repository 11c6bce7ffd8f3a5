"""Rewrite the README's reference section from the model: `python -m llminfra.reference_sync`."""

from pathlib import Path

from .reference import BEGIN, END, reference_markdown


def sync(readme: Path) -> bool:
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + reference_markdown() + text[end:]
    if new != text:
        readme.write_text(new)
    return new != text


if __name__ == "__main__":
    print("updated" if sync(Path("README.md")) else "up to date")
