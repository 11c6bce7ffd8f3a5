"""The lab: containers on this machine that behave like the platform's hosts.

`up(repo_root) -> LabState` builds the images (cached), starts gpu-1, gpu-2 (tunnel-only in
the inventory), gw-1, relay-1 and an upstream playing the public LLM APIs, and writes keys,
known_hosts, the lab CA and lab.json under `<repo_root>/.lab/`. `down(repo_root)` removes it all.
"""

from llminfra_lab.engine import LabError
from llminfra_lab.images import build_all
from llminfra_lab.lifecycle import down, up
from llminfra_lab.state import LabHost, LabState

__all__ = ["LabError", "LabHost", "LabState", "build_all", "down", "up"]
