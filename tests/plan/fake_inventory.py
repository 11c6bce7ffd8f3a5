"""pyinfra inventory: the stack in $LLMINFRA_PLAN_STACK on @fake hosts (nothing is contacted).

Each host answers the facts a deploy asks at plan time from $LLMINFRA_PLAN_RESPONSES (a JSON
file: role -> {command substring: output}), so plans can be taken for any host state.
"""

import json
import os
from pathlib import Path

from llminfra.inventory import pyinfra_groups

_groups = pyinfra_groups(Path(os.environ["LLMINFRA_PLAN_STACK"]))
_responses = json.loads(Path(os.environ["LLMINFRA_PLAN_RESPONSES"]).read_text())


def _fake(entries):
    return [
        (f"@fake/{name}", {**data, "fake_delay": 0,
                           "fake_responses": _responses.get(data["llminfra_role"], {})})
        for name, data in entries
    ]  # fmt: skip


gpu_hosts = _fake(_groups["gpu_hosts"])
gateways = _fake(_groups["gateways"])
relays = _fake(_groups["relays"])
