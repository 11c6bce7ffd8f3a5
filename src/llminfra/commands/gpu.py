"""NVIDIA GPUs as nvidia-smi lists them."""

from __future__ import annotations

# Order matters: facts.gpu.NvidiaGpus maps the CSV columns by position.
QUERY_FIELDS = "index,uuid,name,memory.total,memory.used,driver_version,compute_cap"


def nvidia_smi_query() -> str:
    return f"nvidia-smi --query-gpu={QUERY_FIELDS} --format=csv,noheader,nounits"
