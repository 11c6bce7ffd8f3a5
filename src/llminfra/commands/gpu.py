"""NVIDIA GPUs as nvidia-smi lists them."""

from __future__ import annotations

# Order matters: facts.gpu.NvidiaGpus maps the CSV columns by position.
QUERY_FIELDS = "index,uuid,name,memory.total,memory.used,driver_version,compute_cap"


def nvidia_smi_query() -> str:
    return f"nvidia-smi --query-gpu={QUERY_FIELDS} --format=csv,noheader,nounits"


# The GPU metrics the textfile collector publishes; nvidia_smi.awk maps columns by header name.
METRIC_FIELDS = ("index,uuid,name,driver_version,utilization.gpu,utilization.memory,"
                 "memory.used,memory.total,temperature.gpu,power.draw,power.limit")


def gpu_metrics_command(script: str, textfile_dir: str, name: str = "llminfra_gpu") -> str:
    """nvidia-smi's CSV (header kept: columns are mapped by name) through ``script`` into the
    node exporter's textfile directory. Written to a temporary name and renamed, so the
    collector never reads half a file; it only reads ``*.prom``."""
    final = f"{textfile_dir}/{name}.prom"
    return (f"nvidia-smi --query-gpu={METRIC_FIELDS} --format=csv,nounits 2>/dev/null"
            f" | awk -f {script} > {final}.tmp && mv {final}.tmp {final}")
