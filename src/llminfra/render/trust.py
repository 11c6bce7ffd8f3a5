"""Private CA certificates a gateway's engine trusts besides the system CAs (e.g. the CA that
signs relay certificates), whichever engine runs there."""

from __future__ import annotations

from pathlib import Path

from llminfra.model import Stack

from .files import RenderedFile


def trust_bundle(stack: Stack, gateway: str) -> RenderedFile | None:
    """The extra CA certificates the gateway's engine trusts, concatenated (public, 0644)."""
    engine = stack.gateways[gateway].engine_settings
    if not engine.trust_ca_files:
        return None
    pems = [Path(f).read_text().strip() + "\n" for f in engine.trust_ca_files]
    return RenderedFile(f"{engine.data_dir}/trust/extra-ca.pem", "".join(pems))
