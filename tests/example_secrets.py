"""The example secrets file filled in: every name it lists, with a value `check` accepts
(the example itself holds placeholders, which every command but check and render refuses)."""

from __future__ import annotations

from pathlib import Path

from llminfra.model.secrets import parse_dotenv

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "inventory" / "prod.secrets.env.example"
# LiteLLM's master key starts with sk-; OneAPI's root password and token are at most 20 and 32
# characters.
_SHAPED = {"LITELLM_MASTER_KEY": "sk-master-key-test-0000",
           "ONEAPI_ROOT_PASSWORD": "root-password-0000",
           "ONEAPI_ROOT_ACCESS_TOKEN": "root-access-token-0000"}


def filled(example: Path = EXAMPLE) -> dict[str, str]:
    return {name: _SHAPED.get(name, f"{name.lower()}-test-0000")
            for name in parse_dotenv(example.read_text())}


def write_filled(path: Path, example: Path = EXAMPLE) -> Path:
    """`path` (mode 0600) holding every secret of `example`, filled in."""
    path.write_text("".join(f"{k}={v}\n" for k, v in filled(example).items()))
    path.chmod(0o600)
    return path
