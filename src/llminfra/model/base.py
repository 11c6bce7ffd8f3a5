"""Shared pydantic base and the name types every section uses (the rest: types.py)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .types import AbsPath, check_cidrs

__all__ = ["AbsPath", "Name", "Port", "SecretName", "Strict", "check_cidrs"]

# A name that is safe as a file name, a Compose project name and an nginx/systemd token.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$|^[a-z0-9]$")
SECRET_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


class Strict(BaseModel):
    """Every settings object: unknown keys are errors, assignment re-validates, and values
    are taken as typed (no `true` as 1, no "8000" as 8000, no 1.0 as a string)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False,
                              strict=True)


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid name (lower-case letters, digits and '-', at most 40)"
        )
    return value


# Variables an operator's shell holds for something else: API clients' keys (`llminfra clients`
# itself prints `export OPENAI_API_KEY=<a gateway token>`), and the shell's own. A secret with
# one of these names would be taken from the environment without anyone meaning it, e.g. a
# personal OpenAI key deployed as the platform's provider key.
CLIENT_ENV = frozenset({
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID", "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY", "DEEPSEEK_API_KEY",
    "AZURE_OPENAI_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY", "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
})
SHELL_ENV = frozenset({
    "HOME", "PATH", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TERM", "LANG", "TMPDIR", "TZ",
    "HOSTNAME", "DISPLAY", "EDITOR", "MAIL", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION",
    "SUDO_USER", "PYTHONPATH", "VIRTUAL_ENV",
})


def _suggest(client_var: str) -> str:
    vendor, _, rest = client_var.partition("_")
    return f"{vendor}_PROVIDER_KEY" if rest.endswith("API_KEY") else f"GPU1_{client_var}"


def _check_secret(value: str) -> str:
    if not SECRET_RE.match(value):
        raise ValueError(
            f"{value!r} is not a secret name: secrets are referenced by an UPPER_SNAKE name, "
            "never written inline"
        )
    if value in CLIENT_ENV:
        raise ValueError(
            f"{value} is the variable API clients read (and `llminfra clients` prints for a "
            "gateway token): a shell that exports it would silently supply this secret; name "
            f"it for its use (e.g. {_suggest(value)})"
        )
    if value in SHELL_ENV:
        raise ValueError(f"{value} is a variable every shell sets for another purpose: name "
                         "the secret for its use")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
SecretName = Annotated[str, AfterValidator(_check_secret)]
Port = Annotated[int, Field(ge=1, le=65535)]


def check_bridge_subnet(value: str) -> str:
    """A gateway engine's fixed Compose subnet: its first address is where tunnels listen."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR network ({exc})") from None
    if net.num_addresses < 4:
        raise ValueError("should have room for a few addresses (/30 or larger)")
    return value


def bridge_address(subnet: str) -> str:
    """First host address of a subnet: the bridge's own address on the host."""
    return str(next(ipaddress.ip_network(subnet).hosts()))
