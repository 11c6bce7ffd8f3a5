"""Facts about NVIDIA GPUs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyinfra.api import FactBase
from pyinfra.api.exceptions import FactProcessError
from typing_extensions import override

from llminfra.commands.gpu import nvidia_smi_query


@dataclass(frozen=True)
class Gpu:
    index: int
    uuid: str
    name: str
    memory_total_mib: int | None
    memory_used_mib: int | None
    driver_version: str
    compute_cap: str


def _int_or_none(value: str) -> int | None:
    # nvidia-smi prints "[N/A]" (or "[Not Supported]") where a value does not apply, e.g. MIG.
    return int(value) if value.isdigit() else None


class NvidiaGpus(FactBase[list[Gpu]]):
    """
    The host's NVIDIA GPUs, from ``nvidia-smi --query-gpu``; ``[]`` without nvidia-smi.

    .. code:: python

        [Gpu(index=0, uuid="GPU-7652…", name="NVIDIA H200", memory_total_mib=143771,
             memory_used_mib=0, driver_version="580.159.04", compute_cap="9.0")]
    """

    default = list

    @override
    def requires_command(self) -> str:
        return "nvidia-smi"

    @override
    def command(self) -> str:
        return nvidia_smi_query()

    @override
    def process(self, output):
        gpus = []
        for line in output:
            if not line.strip():
                continue
            cells = [cell.strip() for cell in line.split(",")]
            if len(cells) != 7 or not cells[0].isdigit():
                raise FactProcessError(f"unexpected nvidia-smi line: {line!r}")
            index, uuid, name, total, used, driver, cap = cells
            gpus.append(
                Gpu(int(index), uuid, name, _int_or_none(total), _int_or_none(used), driver, cap)
            )
        return gpus


def check_pinning(
    gpus: list[Gpu] | list[dict[str, Any]], requested_indices: list[int]
) -> list[str]:
    """Why ``requested_indices`` cannot be pinned on a host with ``gpus`` (empty: they can)."""
    indices = sorted(g["index"] if isinstance(g, dict) else g.index for g in gpus)
    if requested_indices and not indices:
        wanted = ", ".join(str(i) for i in requested_indices)
        return [f"GPU(s) {wanted} requested but no NVIDIA GPU was found (nvidia-smi)"]
    have = ", ".join(str(i) for i in indices)
    errors = []
    seen: set[int] = set()
    for index in requested_indices:
        if index in seen:
            errors.append(f"GPU {index} is requested more than once")
        elif index not in indices:
            errors.append(f"GPU {index} does not exist (host has {len(indices)}: {have})")
        seen.add(index)
    return errors
