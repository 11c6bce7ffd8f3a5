"""Pure builders for every shell command and config line llminfra sends to a host.

Nothing here touches pyinfra state: each function maps plain arguments to a
``StringCommand`` (user values wrapped in ``QuoteString``) or to a plain string
(file content, argv for systemd units). Tests assert their exact output.
"""

from __future__ import annotations

import json
import shlex

from pyinfra.api import QuoteString, StringCommand

COMPOSE_FILE = "compose.yaml"
# Written after every successful `up`: the sha256 of `docker compose config` at that moment.
COMPOSE_STAMP = ".llminfra-config.sha256"

DOCKER_APT_URL = "https://download.docker.com/linux/debian"
DOCKER_KEYRING = "/etc/apt/keyrings/docker.asc"
NVIDIA_APT_URL = "https://nvidia.github.io/libnvidia-container/stable/deb"
NVIDIA_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"


def raw(command: StringCommand) -> str:
    """The command exactly as the host's shell receives it (secrets unmasked)."""
    return command.get_raw_value()


# Docker Compose


def compose(compose_command: str, project_name: str | None, *args: object) -> StringCommand:
    """``docker compose [-p NAME] ARGS...``; ``compose_command`` may be ``docker-compose``."""
    bits: list[object] = [QuoteString(word) for word in compose_command.split()]
    if project_name is not None:
        bits += ["-p", QuoteString(project_name)]
    return StringCommand(*bits, *args)


def _config_hash(dc: StringCommand) -> StringCommand:
    # The rendered config may hold secrets: it only ever flows into sha256sum.
    return StringCommand(dc, "config 2>/dev/null | sha256sum | cut -c1-64")


def compose_state(
    project_dir: str, compose_command: str = "docker compose", project_name: str | None = None
) -> StringCommand:
    """Script printing tagged lines (``file``/``stamp``/``config``/``service``/``ps``).

    Prints nothing when the project directory or its compose.yaml is absent.
    """
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "2>/dev/null || exit 0;",
        "test -f", COMPOSE_FILE, "|| exit 0;",
        "printf 'file %s\\n' \"$(sha256sum", COMPOSE_FILE, "| cut -c1-64)\";",
        "printf 'stamp %s\\n' \"$(cat", COMPOSE_STAMP, "2>/dev/null)\";",
        "printf 'config %s\\n' \"$(", _config_hash(dc), ")\";",
        dc, "config --services 2>/dev/null | sed 's/^/service /';",
        dc, "ps --all --format json 2>/dev/null | sed 's/^/ps /'",
    )  # fmt: skip


def compose_up(
    project_dir: str, compose_command: str = "docker compose", project_name: str | None = None
) -> StringCommand:
    """``up -d --remove-orphans``, then record the config hash that is now running."""
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir),
        "&&", dc, "up -d --remove-orphans",
        "&&", _config_hash(dc), ">", COMPOSE_STAMP,
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


# vLLM prints its own argv (api_key included) at start-up; never echo that back.
REDACT_SED = (
    r"s/((api[_-]?key|token|password|secret|authorization)[^:=[:space:]]{0,20}[\"']?"
    r"([[:space:]]*[:=][[:space:]]*|[[:space:]]+)(bearer[[:space:]]+)?[][\"']*)"
    r"[^][\"'[:space:],}]+/\1***/Ig"
)


# OpenAI-compatible model servers


def _auth(api_key_file: str | None) -> tuple[list[object], list[object]]:
    """(prefix, curl flags) that send ``Authorization`` read from a host file via stdin.

    The key never appears in argv, command output or pyinfra's logs.
    """
    if api_key_file is None:
        return [], []
    prefix = ["head -n1", QuoteString(api_key_file), "| sed 's/^/Authorization: Bearer /' |"]
    return prefix, ["-H @-"]


PROBES = ("chat", "embeddings", "list")


def probe_request(probe: str, model: str) -> tuple[str, str] | None:
    """(path, JSON body) of the smallest real request for ``model``; None for ``list``."""
    if probe == "chat":
        body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
        return "/v1/chat/completions", json.dumps(body, separators=(",", ":"))
    if probe == "embeddings":
        return "/v1/embeddings", json.dumps(
            {"model": model, "input": "ping"}, separators=(",", ":")
        )
    if probe == "list":
        return None
    raise ValueError(f"probe should be one of {', '.join(PROBES)}, not {probe!r}")


def _request(prefix: list[object], flags: list[object], base: str, probe: str, model: str):
    request = probe_request(probe, model)
    if request is None:
        return None
    path, body = request
    return [
        *prefix, *flags, "-H 'Content-Type: application/json' -d", QuoteString(body),
        QuoteString(f"{base}{path}"), "2>/dev/null",
    ]  # fmt: skip


def model_probe(
    url: str, model: str, api_key_file: str | None = None, probe: str = "chat", max_time: int = 60
) -> StringCommand:
    """Print ``models <json>`` and ``request <http status>`` (no request line for ``list``);
    always exits 0."""
    base = url.rstrip("/")
    prefix, auth = _auth(api_key_file)
    request = _request(
        ["printf 'request ';", *prefix],
        ["curl -sS -o /dev/null -w '%{http_code}' -m", QuoteString(str(max_time)), *auth],
        base, probe, model,
    )  # fmt: skip
    return StringCommand(
        "printf 'models ';",
        *prefix, "curl -sS -m 10", *auth, QuoteString(f"{base}/v1/models"),
        "2>/dev/null | tr -d '\\n'; echo",
        *([";", *request, "; echo"] if request else []),
    )  # fmt: skip


def model_wait(
    url: str,
    model: str,
    service: str,
    timeout: int,
    logs: StringCommand | None = None,
    api_key_file: str | None = None,
    interval: int = 5,
    probe: str = "chat",
) -> StringCommand:
    """Poll until ``model`` is listed and answers the ``probe`` request, or fail after
    ``timeout`` s: then print an error naming host, service and model, then ``logs``, exit 1."""
    base = url.rstrip("/")
    prefix, auth = _auth(api_key_file)
    message = f"service {service} did not serve model {model} at {base} within {timeout}s"
    on_timeout: list[object] = [
        "printf 'llminfra: %s: %s\\n' \"$(hostname)\"", QuoteString(message), ">&2;",
    ]  # fmt: skip
    if logs is not None:
        on_timeout += ["echo 'last log lines:' >&2;", logs, ">&2;"]
    request = _request(prefix, ["curl -fsS -o /dev/null -m 60", *auth], base, probe, model)
    return StringCommand(
        "end=$(( $(date +%s) +", QuoteString(str(timeout)), "));",
        "while :; do",
        *prefix, "curl -fsS -m 10", *auth, QuoteString(f"{base}/v1/models"), "2>/dev/null",
        "| grep -qF", QuoteString(json.dumps(model)),
        *(["&&", *request] if request else []), "&& exit 0;",
        "if [ \"$(date +%s)\" -ge \"$end\" ]; then", *on_timeout, "exit 1; fi;",
        "sleep", QuoteString(str(interval)), "; done",
    )  # fmt: skip


# Ollama (inside its compose service)


def ollama_list(
    project_dir: str,
    service: str,
    compose_command: str = "docker compose",
    project_name: str | None = None,
) -> StringCommand:
    """``ollama list`` in the service; prints nothing if the container is not up yet."""
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "2>/dev/null &&",
        dc, "exec -T", QuoteString(service), "ollama list 2>/dev/null || true",
    )  # fmt: skip


def ollama_pull(
    project_dir: str,
    service: str,
    model: str,
    compose_command: str = "docker compose",
    project_name: str | None = None,
) -> StringCommand:
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "&&",
        dc, "exec -T", QuoteString(service), "ollama pull", QuoteString(model),
    )  # fmt: skip


# Package repositories and the NVIDIA container toolkit


def docker_apt_source(
    arch: str, codename: str, url: str = DOCKER_APT_URL, keyring: str = DOCKER_KEYRING
) -> str:
    """One-line apt source for docker-ce (``url`` may point at a mirror)."""
    return f"deb [arch={arch} signed-by={keyring}] {url.rstrip('/')} {codename} stable"


def nvidia_toolkit_apt_source(
    arch: str, url: str = NVIDIA_APT_URL, keyring: str = NVIDIA_KEYRING
) -> str:
    """One-line apt source for nvidia-container-toolkit (a flat repository per arch)."""
    return f"deb [signed-by={keyring}] {url.rstrip('/')}/{arch} /"


def nvidia_ctk_configure(runtime: str = "docker", config_path: str | None = None) -> StringCommand:
    bits: list[object] = [
        "nvidia-ctk runtime configure",
        StringCommand("--runtime=", QuoteString(runtime), _separator=""),
    ]
    if config_path is not None:
        bits.append(StringCommand("--config=", QuoteString(config_path), _separator=""))
    return StringCommand(*bits)


# SSH


def ssh_keygen(path: str, comment: str) -> StringCommand:
    """Create an ed25519 key pair (no passphrase) and its parent directory (0700)."""
    parent = path.rsplit("/", 1)[0] or "/"
    return StringCommand(
        "mkdir -p -m 700", QuoteString(parent),
        "&& ssh-keygen -q -t ed25519 -N '' -C", QuoteString(comment), "-f", QuoteString(path),
    )  # fmt: skip


def ssh_public_key_from_private(path: str) -> StringCommand:
    return StringCommand("ssh-keygen -y -f", QuoteString(path), ">", QuoteString(f"{path}.pub"))


def tunnel_key_options(permit: list[str]) -> str:
    """authorized_keys options for a key that may only forward to ``permit`` (``host:port``).

    ``restrict`` alone still lets the key run commands (without a pty): the forced
    ``command="/bin/false"`` stops that, while ``ssh -N`` forwarding keeps working.
    """
    opens = ",".join(f'permitopen="{target}"' for target in permit)
    return f'restrict,port-forwarding,{opens},command="/bin/false"'


def autossh_argv(
    *,
    user: str,
    host: str,
    key_path: str,
    known_hosts: str,
    local_port: int,
    remote_port: int,
    port: int = 22,
    bind: str = "127.0.0.1",
    remote_host: str = "127.0.0.1",
    alive_interval: int = 15,
    alive_count: int = 3,
) -> list[str]:
    """argv of an autossh local forward: ``bind:local_port`` -> ``remote_host:remote_port``."""
    return [
        "autossh", "-M", "0", "-N",
        "-o", "ExitOnForwardFailure=yes",
        "-o", f"ServerAliveInterval={alive_interval}",
        "-o", f"ServerAliveCountMax={alive_count}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "IdentitiesOnly=yes",
        "-i", key_path,
        "-L", f"{bind}:{local_port}:{remote_host}:{remote_port}",
        "-p", str(port),
        f"{user}@{host}",
    ]  # fmt: skip


def autossh_command(**kwargs) -> str:
    """:func:`autossh_argv` as one shell-quoted line (for a systemd ``ExecStart=``)."""
    return shlex.join(autossh_argv(**kwargs))
