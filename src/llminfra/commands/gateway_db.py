"""Shell scripts that copy the gateway's database out and back (docs/gateway-contract.md §11).

Each runs on the gateway as ``sh -c SCRIPT`` over SSH, in the Compose project directory
(``oneapi.data_dir``), with the archive or dump on stdout (copy out) or stdin (restore).
Passwords never appear in a command line: MySQL's comes from the mysql container's own
environment (``MYSQL_PWD`` inside the container).
"""

from __future__ import annotations

import shlex

SERVICE = "oneapi"  # the gateway's service in templates/compose/oneapi.yaml.j2
DATA = "data"  # <data_dir>/data is the container's /data: SQLite's one-api.db lives there
DC = "docker compose"
# The dump names the database, so restoring it recreates that database whatever it held.
MYSQLDUMP = ('MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mysqldump -uroot --single-transaction '
             '--routines --triggers --databases "$MYSQL_DATABASE"')
MYSQL = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mysql -uroot'


def _in(project_dir: str) -> str:
    return f"cd {shlex.quote(project_dir)} && test -f compose.yaml"


def sqlite_copy_out(project_dir: str) -> str:
    """A tar of the container's /data on stdout. A running gateway is paused for the copy
    (writes wait, nothing restarts) and unpaused however the script ends."""
    running = f'[ -n "$({DC} ps -q --status running {SERVICE} 2>/dev/null)" ]'
    return (f"{_in(project_dir)} && test -d {DATA} && "
            f"if {running}; then "
            f"trap '{DC} unpause {SERVICE} >/dev/null 2>&1' EXIT HUP INT TERM && "
            f"{DC} pause {SERVICE} >/dev/null; fi && "
            f"tar -C {DATA} -cf - .")


def sqlite_restore(project_dir: str) -> str:
    """Stop the gateway, replace /data with the tar on stdin, start it again."""
    return (f"{_in(project_dir)} && {DC} stop {SERVICE} >/dev/null 2>&1; "
            f"mkdir -p {DATA} && find {DATA} -mindepth 1 -delete && "
            f"tar -C {DATA} -xf - && {DC} start {SERVICE} >/dev/null")


def mysql_dump(project_dir: str) -> str:
    """``mysqldump`` of the gateway's database on stdout (one consistent transaction)."""
    return f"{_in(project_dir)} && {DC} exec -T mysql sh -c {shlex.quote(MYSQLDUMP)}"


def mysql_restore(project_dir: str) -> str:
    """Feed the dump on stdin to MySQL with the gateway stopped, then start it (its caches
    would otherwise hold the pre-restore rows)."""
    return (f"{_in(project_dir)} && {DC} stop {SERVICE} >/dev/null 2>&1; "
            f"{DC} exec -T mysql sh -c {shlex.quote(MYSQL)} && "
            f"{DC} start {SERVICE} >/dev/null")


def remote_argv(ssh_base: list[str], script: str, sudo: bool = False) -> list[str]:
    """The ssh argv running ``script`` (root through ``sudo -n`` when asked)."""
    return [*ssh_base, ("sudo -n " if sudo else "") + "sh -c " + shlex.quote(script)]
