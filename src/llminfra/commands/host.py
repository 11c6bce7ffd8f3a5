"""One shell command reporting a host's packages, paths, systemd units and users at once."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand


def _words(values) -> list:
    return [QuoteString(v) for v in values]


def host_state(packages=(), paths=(), units=(), users=()) -> StringCommand:
    """Print tagged lines about the items asked: ``pkg STATUS(3 words) NAME VERSION``;
    ``path link|absent - - - - PATH``, or for files and directories ``meta TYPE<tab>MODE USER
    GROUP<tab>PATH`` (what `stat` calls the type) and, for files, ``sum SHA256  PATH``;
    ``unitname NAME`` per unit, then ``unitprop KEY=VALUE`` lines of `systemctl show`, an
    empty one between units; ``user`` + the passwd line. Unknown packages and users print
    nothing."""
    parts: list = []
    if packages:
        parts += ["dpkg-query -W -f='pkg ${Status} ${Package} ${Version}\\n'",
                  *_words(packages), "2>/dev/null;"]  # fmt: skip
    if paths:
        # links and missing paths in the loop (shell builtins); files and directories in one
        # `stat` and one `sha256sum` each: a process per path costs the host ~4 ms of CPU
        parts += [
            "set --; for p in", *_words(paths), "; do",
            'if [ -L "$p" ]; then printf \'path link - - - - %s\\n\' "$p";',
            'elif [ -f "$p" ] || [ -d "$p" ]; then set -- "$@" "$p";',
            'else printf \'path absent - - - - %s\\n\' "$p"; fi; done;',
            '[ $# -eq 0 ] || { stat --printf \'meta %F\\t%a %U %G\\t%n\\n\' -- "$@";',
            'sha256sum -- "$@" 2>/dev/null | sed \'s/^/sum /\'; };',
        ]  # fmt: skip
    if units:
        # one `systemctl show` for every unit: its blocks come in the order asked, one
        # blank line apart; each name is printed first so the answer is read back by position
        parts += [
            "for u in", *_words(units), "; do printf 'unitname %s\\n' \"$u\"; done;",
            "systemctl show -p LoadState -p ActiveState -p UnitFileState --", *_words(units),
            "2>/dev/null | sed 's/^/unitprop /';",
        ]  # fmt: skip
    if users:
        parts += [
            "for n in", *_words(users), "; do",
            'getent passwd "$n" | sed "s/^/user /"; done;',
        ]  # fmt: skip
    parts.append("true")
    return StringCommand(*parts)
