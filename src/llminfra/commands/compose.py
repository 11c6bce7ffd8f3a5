"""Docker Compose: project state, up, down, logs."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

COMPOSE_FILE = "compose.yaml"
# Written after every successful `up`: the project's FINGERPRINT at that moment.
COMPOSE_STAMP = ".llminfra-config.sha256"
# What `up` reads besides images: compose.yaml and the env files beside it (the kit writes
# secrets.env there; Compose reads `.env` for interpolation; the kit sets no variable of its
# own). Their sha256 stands in for hashing `docker compose config`, a Compose call that costs
# the host ~80 ms of CPU on every run, for every project.
FINGERPRINT = (
    "find . -maxdepth 1 -type f \\( -name compose.yaml -o -name '*.env' \\) -print0"
    " | LC_ALL=C sort -z | xargs -0r sha256sum | sha256sum | cut -c1-64"
)
# First line of every compose file the kit renders: what marks a project as the kit's own.
KIT_HEADER = "# Written by llminfra"
# Model services are Compose projects `llm-<service>` in `<data_dir>/llm-<service>`.
SERVICE_PREFIX = "llm-"

# vLLM prints its own argv (api_key included) at start-up; never echo that back.
REDACT_SED = (
    r"s/((api[_-]?key|token|password|secret|authorization)[^:=[:space:]]{0,20}[\"']?"
    r"([[:space:]]*[:=][[:space:]]*|[[:space:]]+)(bearer[[:space:]]+)?[][\"']*)"
    r"[^][\"'[:space:],}]+/\1***/Ig"
)


def compose(compose_command: str, project_name: str | None, *args: object) -> StringCommand:
    """``docker compose [-p NAME] ARGS...``; ``compose_command`` may be ``docker-compose``."""
    bits: list[object] = [QuoteString(word) for word in compose_command.split()]
    if project_name is not None:
        bits += ["-p", QuoteString(project_name)]
    return StringCommand(*bits, *args)


# The service names of a compose file the kit rendered (what `config --services` prints): the
# keys of its top-level `services:` mapping, which the kit's templates indent by two spaces.
SERVICES_AWK = (
    '/^services:/ {s = 1; next} /^[^ ]/ {s = 0} '
    's && /^  [^ #-][^ ]*:$/ {n = substr($0, 3, length($0) - 3); gsub(/^["\']|["\']$/, "", n); '
    'print "service " n}'
)


# `docker compose ps --all --format json` rows (what ``facts.compose.parse_ps`` reads), written
# by plain `docker ps` from the project's labels: a third of a Compose call's CPU on the host.
PS_FORMAT = ('{"Service":{{json (.Label "com.docker.compose.service")}},'
             '"Name":{{json .Names}},"State":{{json .State}}}')


def compose_state(
    project_dir: str, compose_command: str = "docker compose", project_name: str | None = None
) -> StringCommand:
    """Script printing tagged lines (``file``/``stamp``/``config``/``service``/``ps``).

    Prints nothing when the project directory or its compose.yaml is absent.
    """
    return StringCommand(
        "cd", QuoteString(project_dir), "2>/dev/null || exit 0;",
        "test -f", COMPOSE_FILE, "|| exit 0;",
        "printf 'file %s\\n' \"$(sha256sum", COMPOSE_FILE, "| cut -c1-64)\";",
        "printf 'stamp %s\\n' \"$(cat", COMPOSE_STAMP, "2>/dev/null)\";",
        f"printf 'config %s\\n' \"$({FINGERPRINT})\";",
        "awk", QuoteString(SERVICES_AWK), COMPOSE_FILE, ";",
        *project_name_sh(project_name),
        '[ -z "$n" ] || docker ps -a --filter "label=com.docker.compose.project=$n"',
        "--filter label=com.docker.compose.oneoff=False --format", QuoteString(PS_FORMAT),
        "2>/dev/null | sed 's/^/ps /'",
    )  # fmt: skip


def project_name_sh(project_name: str | None = None) -> list[object]:
    """``n=`` the project's name: the one given, else its compose file's ``name:`` (run in the
    project directory)."""
    if project_name is not None:
        return [StringCommand("n=", QuoteString(project_name), ";", _separator="")]
    # The kit's compose files name their project on a top-level `name:` line (quoted or not);
    # without one Compose names it after the directory (lower case, [a-z0-9_-] kept)
    return ["n=$(sed -n 's/^name: *//p'", COMPOSE_FILE, "| head -n1 | tr -d \"\\\"'\");",
            "n=${n:-$(basename \"$PWD\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')};"]


def service_container_sh(service: str) -> StringCommand:
    """``c=`` the id of project ``$n``'s container for ``service`` (empty: none running)."""
    return StringCommand(
        'c=$(docker ps -q --filter "label=com.docker.compose.project=$n"',
        "--filter", QuoteString(f"label=com.docker.compose.service={service}"),
        "| head -n1);",
    )  # fmt: skip


def project_dir_create(project_dir: str) -> StringCommand:
    """The project directory, 0750: the compose file in it may hold secrets."""
    return StringCommand("mkdir -p -m 750", QuoteString(project_dir))


def compose_up(
    project_dir: str, compose_command: str = "docker compose", project_name: str | None = None
) -> StringCommand:
    """``up -d --remove-orphans``, then record the fingerprint of what is now running."""
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir),
        "&&", dc, "up -d --remove-orphans",
        f"&& {FINGERPRINT} >", COMPOSE_STAMP,
    )  # fmt: skip


def compose_down(
    project_dir: str, compose_command: str = "docker compose", project_name: str | None = None
) -> StringCommand:
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "&&", dc, "down --remove-orphans", "&& rm -f", COMPOSE_STAMP
    )


def compose_logs(
    project_dir: str,
    service: str,
    tail: int = 30,
    compose_command: str = "docker compose",
    project_name: str | None = None,
) -> StringCommand:
    """Last log lines of a service, with values that look like credentials redacted."""
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir),
        "&&", dc, "logs --no-color --tail", QuoteString(str(tail)), QuoteString(service),
        "2>&1 | sed -E", QuoteString(REDACT_SED),
    )  # fmt: skip


def kit_projects(data_dir: str) -> StringCommand:
    """Print ``project NAME CONTAINERS`` per model-service project the kit made in ``data_dir``.

    A project is the kit's only when its directory is ``llm-*`` AND its compose.yaml starts
    with the kit's header; CONTAINERS counts its containers in any state (by Compose's
    project label), so a stopped one still holding a GPU reservation is seen.
    """
    return StringCommand(
        "cd", QuoteString(data_dir), "2>/dev/null || exit 0;",
        # every container's project, listed once: one Docker call, not one per project
        "l=$(docker ps -a --format '{{.Label \"com.docker.compose.project\"}}' 2>/dev/null);",
        f"for f in {SERVICE_PREFIX}*/{COMPOSE_FILE}; do",
        '[ -f "$f" ] && head -n1 "$f" | grep -qF', QuoteString(KIT_HEADER), "|| continue;",
        f'p="${{f%/{COMPOSE_FILE}}}";',
        "printf 'project %s %s\\n' \"$p\" \"$(printf '%s\\n' \"$l\" | grep -cxF \"$p\")\";",
        "done",
    )  # fmt: skip


def project_remove(data_dir: str, project: str, compose_command: str = "docker compose"
                   ) -> StringCommand:
    """Stop and remove project ``project`` (its containers free their GPUs), then its
    directory: compose.yaml, secrets.env, the probe key. Caches live outside it and stay.

    ``down`` by project name needs no compose file, so a project whose file no longer
    parses is removed too.
    """
    directory = f"{data_dir.rstrip('/')}/{project}"
    return StringCommand(
        "cd / &&", compose(compose_command, project), "down --remove-orphans",
        "&& rm -rf", QuoteString(directory),
    )  # fmt: skip
