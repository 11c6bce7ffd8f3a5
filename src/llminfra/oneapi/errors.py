"""Typed errors of the OneAPI client; ``str(exc)`` is always one line."""


class OneAPIError(Exception):
    """Base class. ``str()`` is a single human line without secrets."""

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()))


class OneAPIUnreachable(OneAPIError):
    """No TCP/HTTP exchange was possible (refused, DNS, connect timeout)."""


class OneAPIConnectionLost(OneAPIError):
    """The connection broke after the request was sent: a write may or may not have happened."""


class OneAPIAuthError(OneAPIError):
    """The gateway refused the credentials (401/403 or OneAPI's 200 "无权进行此操作…")."""


class OneAPIRequestError(OneAPIError):
    """The gateway answered ``success:false`` (or an unexpected HTTP status)."""

    def __init__(self, method, path, api_message, status=200):
        self.method, self.path, self.api_message, self.status = method, path, api_message, status
        where = f"{method} {path}" + (f" (HTTP {status})" if status != 200 else "")
        super().__init__(f"OneAPI rejected {where}: {api_message or 'no message'}")


class OneAPIInconsistentRead(OneAPIError):
    """Two listings of the same objects disagreed; planning on them would be unsafe."""
