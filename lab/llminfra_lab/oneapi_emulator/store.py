"""Persistent state of the emulated OneAPI: users, channels, tokens, options.

Stored as one JSON document (the emulator's stand-in for ``one-api.db``) and
rewritten atomically after every mutation, so a restart keeps everything.
"""
import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
import uuid

ROOT_QUOTA = 500000000000000
SETUP_ROOT_QUOTA = 100000000  # New-API's root, created by POST /api/setup
ONEAPI, NEWAPI = "oneapi", "newapi"


def flavor_of(env):
    flavor = (env or {}).get("EMULATOR_FLAVOR") or ONEAPI
    if flavor not in (ONEAPI, NEWAPI):
        raise ValueError(f"EMULATOR_FLAVOR must be {ONEAPI} or {NEWAPI}, not {flavor!r}")
    return flavor

DEFAULT_OPTIONS = {
    "RetryTimes": "0",
    "AutomaticDisableChannelEnabled": "false",
    "AutomaticEnableChannelEnabled": "false",
    "ChannelDisableThreshold": "5",
    "QuotaPerUnit": "500000",
    "GroupRatio": '{"default":1,"vip":1,"svip":1}',
    "ModelRatio": "{}",
    "CompletionRatio": "{}",
    "PreConsumedQuota": "500",
    "QuotaForNewUser": "0",
    "QuotaRemindThreshold": "1000",
    "RegisterEnabled": "true",
    "PasswordRegisterEnabled": "true",
    "PasswordLoginEnabled": "true",
    "EmailVerificationEnabled": "false",
    "LogConsumeEnabled": "true",
    "DisplayInCurrencyEnabled": "true",
    "ServerAddress": "",
    "SystemName": "One API",
    "Theme": "default",
    "SMTPToken": "",
    "Notice": "",
}


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000).hex()
    return f"{salt}${digest}"


def check_password(stored, password):
    salt, _, _ = stored.partition("$")
    return secrets.compare_digest(stored, hash_password(password, salt))


def new_user(uid, username, password, role, access_token):
    return {
        "id": uid, "username": username, "password": hash_password(password),
        "display_name": "Root User" if role == 100 else username, "role": role, "status": 1,
        "email": "", "github_id": "", "wechat_id": "", "lark_id": "", "oidc_id": "",
        "verification_code": "", "access_token": access_token, "quota": ROOT_QUOTA,
        "used_quota": 0, "request_count": 0, "group": "default", "aff_code": "",
        "inviter_id": 0,
    }


class Store:
    """Thread-safe JSON-backed tables. Callers hold ``lock`` around read-modify-write."""

    def __init__(self, path, env):
        self.path = path
        self.flavor = flavor_of(env)
        self.lock = threading.RLock()
        self.data = self._load()
        self._bootstrap(env)

    def _load(self):
        if self.path and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as fh:
                return json.load(fh)
        return {"users": [], "channels": [], "tokens": [], "options": {},
                "seq": {"users": 0, "channels": 0, "tokens": 0}}

    def _bootstrap(self, env):
        if self.flavor == NEWAPI:
            # New-API creates no user at start; a database holding a root counts as set up.
            if any(u["role"] == 100 for u in self.data["users"]):
                self.data["setup"] = True
            return
        # Mirrors CreateRootAccountIfNeed: acts only when the users table is empty.
        if self.data["users"]:
            return
        access = env.get("INITIAL_ROOT_ACCESS_TOKEN") or uuid.uuid4().hex
        root = new_user(self.next_id("users"), "root", "123456", 100, access)
        self.data["users"].append(root)
        if env.get("INITIAL_ROOT_TOKEN"):
            now = int(time.time())
            self.data["tokens"].append({
                "id": self.next_id("tokens"), "user_id": root["id"],
                "key": env["INITIAL_ROOT_TOKEN"], "status": 1, "name": "Initial Root Token",
                "created_time": now, "accessed_time": now, "expired_time": -1,
                "remain_quota": ROOT_QUOTA, "unlimited_quota": True, "used_quota": 0,
                "models": None, "subnet": "",
            })
        self.save()

    def next_id(self, table):
        self.data["seq"][table] += 1
        return self.data["seq"][table]

    def option(self, key):
        return self.data["options"].get(key, DEFAULT_OPTIONS.get(key, ""))

    def options(self):
        merged = dict(DEFAULT_OPTIONS)
        merged.update(self.data["options"])
        return merged

    def table(self, name):
        return self.data[name]

    def find(self, table, **where):
        for row in self.data[table]:
            if row.get("deleted_at"):
                continue  # New-API's soft delete
            if all(row.get(k) == v for k, v in where.items()):
                return row
        return None

    def save(self):
        """Atomic replace: write a temp file in the same directory, fsync, rename."""
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".one-api.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
