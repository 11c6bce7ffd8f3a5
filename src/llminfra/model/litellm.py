"""LiteLLM as a gateway engine: config-only (no database), its config rendered from the stack."""

from __future__ import annotations

import hashlib
import hmac
import re

from pydantic import Field, field_validator

from .base import AbsPath, Port, SecretName, Strict, bridge_address, check_bridge_subnet
from .types import Env, ImageRepo, ImageTag, IpAddress, LocalPath

# The PyPI release the default image tag and the lab image are pinned to (README: upgrading).
LITELLM_VERSION = "1.108.7"
# Releases never to deploy: 1.107.0 is described as a compromised upload.
BLOCKED_VERSIONS = ("1.107.0",)


class LiteLLMSettings(Strict):
    image: ImageRepo = Field("ghcr.io/berriai/litellm", description="LiteLLM image (without tag).")
    version: ImageTag = Field(
        f"main-v{LITELLM_VERSION}", description="Image tag, pinned (never `latest`): the "
        "official tags read `main-v<release>`."
    )
    data_dir: AbsPath = Field("/opt/llminfra/litellm", description="Config and env file.")
    bind: IpAddress = Field("127.0.0.1", description="Host address the API port binds to.")
    port: Port = Field(4000, description="Host port for LiteLLM (Nginx proxies to it).")
    network_subnet: str = Field(
        "172.30.1.0/24", description="Subnet of LiteLLM's Compose network; tunnels listen on "
        "its first address so only LiteLLM's container reaches them. Differs from OneAPI's "
        "default so both engines can exist on one host while switching."
    )
    master_key: SecretName = Field(
        description="Secret holding LiteLLM's master (admin) key: `sk-` and 16 characters at "
        "least; it is never a client key."
    )
    client_key_secret: SecretName = Field(
        description="Secret every client key of `tokens` is derived from (HMAC-SHA256 of the "
        "token name), 16 characters at least. Changing it changes every client key; renaming a token changes its key."
    )
    num_retries: int = Field(
        2, ge=0, le=100, description="Retries per request; a failed deployment is retried on the next "
        "one in priority order."
    )
    env: Env = Field({}, description="Extra non-secret environment for LiteLLM.")
    trust_ca_files: list[LocalPath] = Field(
        [], description="PEM CA certificates on the operator's machine (relative to the stack "
        "file) that LiteLLM trusts besides the system CAs, e.g. a private CA signing relay "
        "certificates."
    )

    @field_validator("network_subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        return check_bridge_subnet(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value in ("latest", "main-latest", "main-stable", "") or value.endswith("-latest"):
            raise ValueError(f"{value!r} is not a pinned version (e.g. main-v{LITELLM_VERSION})")
        for bad in BLOCKED_VERSIONS:
            if re.search(rf"(^|[^0-9.]){re.escape(bad)}($|[^0-9.])", value):
                raise ValueError(f"LiteLLM {bad} is described as a compromised release; pin "
                                 f"another (e.g. main-v{LITELLM_VERSION})")
        return value

    @property
    def tunnel_bind(self) -> str:
        return bridge_address(self.network_subnet)

    @property
    def api_bind(self) -> str:
        return self.bind

    @property
    def api_port(self) -> int:
        return self.port

    @property
    def port_key(self) -> str:
        return "litellm/port"


def client_key(secret: str, token_name: str) -> str:
    """A token's key on LiteLLM gateways: derived, so every operator's machine renders the
    same keys from the shared secrets file and no key state has to be kept anywhere."""
    mac = hmac.new(secret.encode(), f"llminfra token {token_name}".encode(), hashlib.sha256)
    return "sk-lmi-" + mac.hexdigest()[:40]
