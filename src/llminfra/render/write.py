"""`llminfra render`: write every host's files under OUTDIR/<host>/<path on host>."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from llminfra.model import SecretValue, Stack
from llminfra.model.secrets import Secrets

from .bundle import render_all


class MaskedSecrets(Secrets):
    """Stands in for real secrets so review copies show which secret goes where, not its value."""

    def __init__(self, real: Secrets):
        super().__init__(real.file, environ={})
        self._real = real

    def has(self, name: str) -> bool:
        return self._real.has(name)

    def get(self, name: str) -> SecretValue:
        self._real.get(name)  # still fail loudly on a missing secret
        return SecretValue(f"MASKED-{name}")


def write_rendered(stack: Stack, outdir: Path, show_secrets: bool = False) -> list[Path]:
    if not show_secrets:
        stack = copy.copy(stack)
        stack._secrets = MaskedSecrets(stack.secrets)
    written = []
    for host_name, files in render_all(stack).items():
        for f in files:
            target = outdir / host_name / f.path_on_host.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(f.mode, 8))
            with os.fdopen(fd, "w") as out:
                out.write(f.content)
            os.chmod(target, int(f.mode, 8))
            written.append(target)
    return written
