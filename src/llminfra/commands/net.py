"""Address forms that two ends of one connection must write identically.

Pure strings, no pyinfra: the model, the renderers, the deploys and the gateway adapter all
import this.
"""

from __future__ import annotations


def reach(bind: str) -> str:
    """The address that reaches, from the same host, a port bound on ``bind`` (``host`` part
    of ``host:port``; IPv6 in brackets).

    A wildcard is reached on its own family's loopback: a socket on ``::`` always accepts
    ``::1`` but takes IPv4 only when the kernel maps it, which Docker does not promise.
    The tunnel's ``permitopen`` and the autossh ``-L`` target both come from here: sshd
    refuses the forward when they differ.
    """
    if bind in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bind == "::":
        return "[::1]"
    return f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind


def known_hosts_name(host: str, port: int = 22) -> str:
    """How OpenSSH names ``host`` in known_hosts: bare on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"
