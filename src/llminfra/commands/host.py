"""One shell command reporting a host's packages, paths, systemd units and users at once."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand


def _words(values) -> list:
    return [QuoteString(v) for v in values]


def host_state(packages=(), paths=(), units=(), users=()) -> StringCommand:
    """Print one tagged line per item asked about: ``pkg STATUS(3 words) NAME VERSION``,
    ``path TYPE MODE USER GROUP SHA256 PATH`` (TYPE file/dir/link/absent, ``-`` where it does
    not apply; the path last, so it may hold spaces), ``unit ACTIVE ENABLED NAME`` and
    ``user`` + the passwd line. Unknown packages and users print nothing."""
    parts: list = []
    if packages:
        parts += ["dpkg-query -W -f='pkg ${Status} ${Package} ${Version}\\n'",
                  *_words(packages), "2>/dev/null;"]  # fmt: skip
    if paths:
        parts += [
            "for p in", *_words(paths), "; do",
            'if [ -L "$p" ]; then printf \'path link - - - - %s\\n\' "$p";',
            'elif [ -f "$p" ]; then printf \'path file %s %s %s\\n\' "$(stat -c \'%a %U %G\' "$p")"',
            '"$(sha256sum "$p" | cut -d" " -f1)" "$p";',
            'elif [ -d "$p" ]; then printf \'path dir %s - %s\\n\' "$(stat -c \'%a %U %G\' "$p")" "$p";',
            'else printf \'path absent - - - - %s\\n\' "$p"; fi; done;',
        ]  # fmt: skip
    if units:
        parts += [
            "for u in", *_words(units), "; do",
            'a=$(systemctl is-active "$u" 2>/dev/null); e=$(systemctl is-enabled "$u" 2>/dev/null);',
            'printf \'unit %s %s %s\\n\' "${a:-unknown}" "${e:-unknown}" "$u"; done;',
        ]  # fmt: skip
    if users:
        parts += [
            "for n in", *_words(users), "; do",
            'getent passwd "$n" | sed "s/^/user /"; done;',
        ]  # fmt: skip
    parts.append("true")
    return StringCommand(*parts)
