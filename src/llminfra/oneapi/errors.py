"""Typed errors of the gateway client; ``str(exc)`` is always one line."""

from __future__ import annotations

from __future__ import annotations


class OneAPIError(Exception):
    """Base class. ``str()`` is a single human line without secrets."""

    def __init__(self, message: object) -> None:
        super().__init__(" ".join(str(message).split()))


class OneAPIUnreachable(OneAPIError):
    """No TCP/HTTP exchange was possible (refused, DNS, connect timeout)."""


class OneAPIConnectionLost(OneAPIError):
    """The connection broke after the request was sent: a write may or may not have happened."""


class OneAPIAuthError(OneAPIError):
    """The gateway refused the credentials (401/403 or the 200 "无权进行此操作…" answer)."""


class OneAPIRequestError(OneAPIError):
    """The gateway answered ``success:false`` (or an unexpected HTTP status)."""

    def __init__(self, method: str, path: str, api_message: str, status: int = 200) -> None:
        self.method, self.path, self.api_message, self.status = method, path, api_message, status
        where = f"{method} {path}" + (f" (HTTP {status})" if status != 200 else "")
        super().__init__(f"OneAPI rejected {where}: {api_message or 'no message'}")


class OneAPIInconsistentRead(OneAPIError):
    """Two listings of the same objects disagreed; planning on them would be unsafe."""
