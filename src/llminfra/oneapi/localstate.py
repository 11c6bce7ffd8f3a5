"""Local, secret-bearing files kept next to the inventory (directory 0700, every file 0600).

What the kit owns and the channel key fingerprints live on the gateway (:mod:`.registry`), so
nothing here is needed to plan correctly: a fresh clone plans the same. Kept here: the token
keys the gateway generated (a dotenv file ``NAME=sk-...`` clients are configured from), the
JSON backup taken before each apply's first write, and the plan a deploy saves between
pyinfra's planning and execution phases.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from llminfra.model.gateway_objects import token_key_var
from llminfra.paths import TOKENS_FILE

SECRETS_FILE = TOKENS_FILE
BACKUP_DIR = "backups"
PLAN_FILE = "deploy-plan.json"


def write_private(path: str, text: str) -> None:
    """Atomically replace ``path`` with ``text``, readable by the owner only."""
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def secret_var(token_name: str) -> str:
    """Dotenv variable holding a managed token's key, e.g. ``LMI_TOKEN_WEB_APP``."""
    return token_key_var(token_name)


class LocalState:
    """Captured token keys, backups and the deploy's saved plan."""

    def __init__(self, directory: str) -> None:
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.secrets_path = os.path.join(directory, SECRETS_FILE)
        self.plan_path = os.path.join(directory, PLAN_FILE)

    # token secrets -----------------------------------------------------------
    def read_secrets(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if os.path.exists(self.secrets_path):
            with open(self.secrets_path, encoding="utf-8") as fh:
                for line in fh:
                    name, sep, value = line.strip().partition("=")
                    if sep and not name.startswith("#"):
                        out[name] = value
        return out

    def store_secret(self, var: str, value: str) -> bool:
        """Set one dotenv entry; returns True if the file changed."""
        current = self.read_secrets()
        if current.get(var) == value:
            return False
        current[var] = value
        text = "".join(f"{k}={v}\n" for k, v in sorted(current.items()))
        write_private(self.secrets_path, text)
        return True

    # backups -----------------------------------------------------------------
    def backup(self, channels: list[Any], tokens: list[Any]) -> str:
        """JSON snapshot (0600) of the server objects before the first write of an apply."""
        path = os.path.join(self.dir, BACKUP_DIR)
        os.makedirs(path, mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 10**9:09d}"
        target = os.path.join(path, f"oneapi-{stamp}.json")
        write_private(target, json.dumps({"channels": channels, "tokens": tokens}, indent=1))
        return target

    # the deploy's saved plan -------------------------------------------------
    def save_plan(self, text: str) -> str:
        write_private(self.plan_path, text)
        return self.plan_path

    def take_plan(self) -> str | None:
        """The saved plan, removed so it is applied at most once."""
        try:
            with open(self.plan_path, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            return None
        os.unlink(self.plan_path)
        return text
