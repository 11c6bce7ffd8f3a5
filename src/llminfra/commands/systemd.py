"""systemd units the kit writes (the gateway's tunnels): list them, retire them."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

UNIT_DIR = "/etc/systemd/system"
# First line of every unit the kit renders (templates/systemd/*.j2).
KIT_HEADER = "# Written by llminfra"


def kit_units(prefix: str) -> StringCommand:
    """Print ``unit NAME STATE`` per ``<prefix>*.service`` in /etc/systemd/system whose
    file starts with the kit's header (STATE as ``systemctl is-active`` says it)."""
    return StringCommand(
        "cd", UNIT_DIR, "2>/dev/null || exit 0;",
        "for f in", StringCommand(QuoteString(prefix), "*.service", _separator=""), "; do",
        '[ -f "$f" ] && head -n1 "$f" | grep -qF', QuoteString(KIT_HEADER), "|| continue;",
        "printf 'unit %s %s\\n' \"${f%.service}\" \"$(systemctl is-active \"$f\" 2>/dev/null)\";",
        "done",
    )  # fmt: skip


def unit_remove(unit: str) -> StringCommand:
    """Stop, disable and delete one unit (``reset-failed`` so it leaves no trace in
    ``systemctl --failed``); ``daemon_reload`` follows once for all of them."""
    service = QuoteString(f"{unit}.service")
    return StringCommand(
        "systemctl disable --now", service, ">/dev/null 2>&1;",
        "rm -f", QuoteString(f"{UNIT_DIR}/{unit}.service"), "&&",
        "{ systemctl reset-failed", service, ">/dev/null 2>&1 || true; }",
    )  # fmt: skip


def daemon_reload() -> StringCommand:
    return StringCommand("systemctl daemon-reload")


def unit_start(unit: str, enable: bool = True, start: bool = True) -> StringCommand:
    """``systemctl enable --now`` (or just the half that is needed)."""
    if enable:
        return StringCommand("systemctl enable", *(["--now"] if start else []), QuoteString(unit))
    return StringCommand("systemctl start", QuoteString(unit))


def unit_stop(unit: str) -> StringCommand:
    """Stopped now and not started at boot."""
    return StringCommand("systemctl disable --now", QuoteString(unit))
