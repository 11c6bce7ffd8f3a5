"""What a host must offer before the kit changes anything on it."""

from __future__ import annotations

from pyinfra.api import StringCommand

# Run as the login user, never through sudo: it is what finds out whether sudo works.
_PROBE = (
    "printf 'uid %s\\n' \"$(id -u)\";",
    "if [ -d /run/systemd/system ]; then echo 'systemd yes'; else echo 'systemd no'; fi;",
    "if [ \"$(id -u)\" = 0 ]; then echo 'sudo root';",
    "elif ! command -v sudo >/dev/null 2>&1; then echo 'sudo none';",
    "elif sudo -n true >/dev/null 2>&1; then echo 'sudo yes'; else echo 'sudo no'; fi;",
    "if command -v apt-get >/dev/null 2>&1; then echo 'apt yes'; else echo 'apt no'; fi;",
    "( . /etc/os-release 2>/dev/null; printf 'os %s %s\\n' \"${ID:-unknown}\"",
    "\"${VERSION_CODENAME:-unknown}\" )",
)


def preflight_probe() -> StringCommand:
    """Print ``uid N``, ``systemd yes|no``, ``sudo root|yes|no|none``, ``apt yes|no`` and
    ``os ID CODENAME``; exit 0 always."""
    return StringCommand(*_PROBE)
