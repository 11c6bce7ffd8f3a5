"""`llminfra` command line: check, render, lab, channels, reference."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .model import StackError, load_stack


def _load(args: argparse.Namespace, example_ok: bool = False):
    """`example_ok`: check and render accept the placeholders of a `*.example` secrets file
    (as warnings); commands that talk to hosts never do."""
    secrets = Path(args.secrets_file) if getattr(args, "secrets_file", None) else None
    return load_stack(args.inventory, secrets_file=secrets, example_ok=example_ok)


def _render_problems(stack) -> list[str]:
    """Every host's files rendered once (secrets masked; their values are checked by the
    model): whatever render or a deploy would still refuse is refused by `check` too."""
    import copy

    from .render.bundle import gateway_files, gpu_files, relay_files
    from .render.files import RenderError
    from .render.write import MaskedSecrets

    masked = copy.copy(stack)
    masked._secrets = MaskedSecrets(stack.secrets)
    problems = []
    for names, files in ((stack.gpu_hosts, gpu_files), (stack.gateways, gateway_files),
                         (stack.relays, relay_files)):
        for name in names:
            try:
                files(masked, name)
            except RenderError as exc:
                problems.append(f"{name}: render: {exc}")
    return problems


def cmd_check(args: argparse.Namespace) -> int:
    from .plan_view import describe

    from .model.safety import check_pins

    stack = _load(args, example_ok=True)
    problems = check_pins(stack) + _render_problems(stack)
    if problems:
        raise StackError(problems)
    print(describe(stack))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .render.write import write_rendered

    stack = _load(args, example_ok=True)
    try:
        written = write_rendered(stack, Path(args.outdir), show_secrets=args.show_secrets)
    except OSError as exc:  # OUTDIR is a file, read-only, on a full disk, ...
        raise StackError([f"render: cannot write under {args.outdir}: "
                          f"{exc.strerror or exc} ({exc.filename or args.outdir})"]) from None
    for path in written:
        print(path)
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from .reference import reference_markdown

    print(reference_markdown())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .model import Stack

    # by alias and in validation mode: exactly what an inventory file may hold
    print(json.dumps(Stack.model_json_schema(mode="validation"), indent=2, sort_keys=True))
    return 0


def _gateway(stack, name: str | None) -> str:
    if name is None:
        if len(stack.gateways) != 1:
            raise StackError([f"gateways: {len(stack.gateways)} declared; choose one with --gateway"])
        return next(iter(stack.gateways))
    if name not in stack.gateways:
        raise StackError([f"--gateway: {name!r} is not a declared gateway"])
    return name


def cmd_clients(args: argparse.Namespace) -> int:
    import dataclasses

    from .clients import access, snippet, ssh_fetch_argv
    from .paths import known_hosts_file

    stack = _load(args)
    gateway = _gateway(stack, args.gateway)
    try:
        found = access(stack, gateway, args.token)
    except LookupError as exc:
        raise StackError([str(exc.args[0])]) from None
    if not found:
        print("tokens: none declared; add one under `tokens:` and apply", file=sys.stderr)
        return 1
    if args.url:  # e.g. the gateway's address while its server_name has no DNS record yet
        found = [dataclasses.replace(a, base_url=args.url.rstrip("/")) for a in found]
    fetch = ssh_fetch_argv(stack, gateway, found[0].cert_path, known_hosts_file(stack, gateway))
    print("\n\n".join(snippet(a, fetch) for a in found))
    missing = [a.token for a in found if a.key is None]
    if missing:
        print(f"not captured yet: {', '.join(missing)} (run `llminfra channels apply`)",
              file=sys.stderr)
        return 1
    return 0


def cmd_smoke(args: argparse.Namespace) -> int:
    import json
    import ssl

    import httpx
    from openai import OpenAI

    from .clients import access, fetch_cert
    from .paths import known_hosts_file
    from .smoke import HEADERS, rows, run, targets
    from .table import table

    stack = _load(args)
    gateway = _gateway(stack, args.gateway)
    try:
        found = access(stack, gateway, args.token)
    except LookupError as exc:
        raise StackError([str(exc.args[0])]) from None
    usable = [a for a in found if a.key]
    if not usable:
        print("smoke: no token key captured yet (run `llminfra channels apply`)", file=sys.stderr)
        return 1
    a = usable[0]
    verify: ssl.SSLContext | bool = True
    if args.cacert:
        verify = ssl.create_default_context(cafile=args.cacert)
    elif a.self_signed:
        try:
            cafile = fetch_cert(stack, gateway, a.cert_path, known_hosts_file(stack, gateway))
        except OSError as exc:
            print(f"smoke: {exc}", file=sys.stderr)
            return 1
        verify = ssl.create_default_context(cafile=cafile)
    base = args.url or a.base_url
    http = httpx.Client(verify=verify, timeout=args.timeout, trust_env=False)
    client = OpenAI(base_url=base, api_key=a.key, http_client=http, max_retries=0)
    results = [run(client, t) for t in targets(stack, args.include_external)
               if not args.model or t.model in args.model]
    if args.json:
        print(json.dumps([{**r.__dict__, "target": r.target.__dict__,
                           "tokens_per_s": r.tokens_per_s} for r in results], indent=2))
    else:
        print(f"smoke through {base} (token {a.token})")
        print(table(HEADERS, rows(results)))
    broken = [r for r in results if not r.ok]
    for r in broken:
        print(f"smoke: {r.target.model} via {r.target.origin}: {r.error}", file=sys.stderr)
    return 1 if broken or not results else 0


def cmd_status(args: argparse.Namespace) -> int:
    import json
    from concurrent.futures import ThreadPoolExecutor

    from .clients import fetch_cert
    from .paths import known_hosts_file
    from .render.tls import cert_paths
    from .status import cert_row, channel_rows, checks_for, host_rows
    from .table import table

    stack = _load(args)
    gateways = [_gateway(stack, args.gateway)] if args.gateway else list(stack.gateways)
    hosts = [*stack.gpu_hosts, *stack.gateways, *stack.relays]
    pins = known_hosts_file(stack, gateways[0]) if gateways else None

    def probe(name: str):
        known = stack.host(name).ssh.known_hosts or pins or ""
        return host_rows(stack, name, checks_for(stack, name), known)

    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = [r for found in pool.map(probe, hosts) for r in found]
    for gw in gateways:
        rows += channel_rows(stack, gw, args.admin_url)
        ngx = stack.gateways[gw].nginx
        cafile = args.cacert
        if cafile is None and ngx.tls.mode == "self_signed":
            try:
                cafile = fetch_cert(stack, gw, cert_paths(ngx.tls, ngx.server_name,
                                    ngx.server_name).cert, known_hosts_file(stack, gw))
            except OSError as exc:
                print(f"status: {exc}", file=sys.stderr)
        rows.append(cert_row(stack, gw, args.connect, cafile))
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
    else:
        print(table(["hop", "target", "state", "detail"],
                    [[r.hop, r.target, r.state.upper() if r.state != "ok" else "ok", r.detail]
                     for r in rows]))
    broken = [r for r in rows if r.state != "ok"]
    for r in broken:
        print(f"status: {r.state}: {r.hop} {r.target}: {r.detail}", file=sys.stderr)
    return 1 if broken else 0


def cmd_admin(args: argparse.Namespace) -> int:
    from .admin import run_admin

    stack = _load(args)
    return run_admin(stack, _gateway(stack, args.gateway), args.local_port)


def cmd_hostkey(args: argparse.Namespace) -> int:
    from .hostkey import HostKeyError, describe, pinned_matches, repin, scan

    stack = _load(args)
    try:
        role = stack.role(args.host)
    except KeyError:
        raise StackError([f"{args.host}: not a declared host"]) from None
    ssh = stack.host(args.host).ssh
    try:
        presented = scan(ssh.host, ssh.port)
        print("\n".join(describe(stack, args.host, presented)))
        if pinned_matches(ssh.host_key, presented):
            print(f"{args.host}: the pinned key matches")
            return 0
        if ssh.host_key is None and not ssh.known_hosts:
            # a first pin is the operator's own edit: this only hands over the line to add
            print(f"{args.host}: nothing is pinned yet. Check the fingerprint out of band (the "
                  "provider's console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then "
                  f"add under {args.host}'s ssh section:\n    host_key: {presented[0].key}")
            return 1
        print(f"{args.host}: the presented key is NOT the pinned one; SSH to it is refused")
        if not args.pin:
            print("to re-pin after checking the fingerprint out of band: "
                  f"llminfra hostkey {args.inventory} {args.host} --pin")
            return 1
        new = presented[0].key
        if not args.yes:
            answer = input(f"re-pin {args.host} to {presented[0].fingerprint}? "
                           f"type the host name to confirm: ")
            if answer.strip() != args.host:
                print("not re-pinned")
                return 1
        source = stack.source
        if source is None:
            raise HostKeyError("the stack was not loaded from a file")
        repin(source, ssh.host_key, new, args.host)
    except HostKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # a GPU host's tunnel pin and channel URLs live on the gateways too
    gateways = list(stack.gateways) if role == "gpu" else []
    limits = " ".join(f"--limit {n}" for n in [args.host, *gateways])
    print(f"{args.host}: re-pinned in {source}. Converge: "
          f"pyinfra {Path(args.inventory).with_suffix('.py')} deploys/all.py {limits}")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    try:
        from llminfra_lab.__main__ import run
    except ImportError:
        print("error: the lab is a separate package: pip install -e ./lab", file=sys.stderr)
        return 1
    return run(args.action, Path(args.repo).resolve(), deploy=args.deploy,
               remove_images=args.remove_images, engine=args.engine, flavor=args.flavor,
               gpu_hosts=args.gpu_hosts)


def cmd_gateway(args: argparse.Namespace) -> int:
    from .backup.gateway import run_cli

    stack = _load(args)
    gateways = [_gateway(stack, args.gateway)] if args.gateway else list(stack.gateways)
    gateways = [g for g in gateways if stack.gateways[g].engine == "oneapi"]
    if not gateways:
        raise StackError(["gateways: none runs the oneapi engine (nothing to back up)"])
    extra = {} if args.action == "backup" else {"from_export": args.from_export,
                                                 "force": args.force}
    return run_cli(stack, gateways, args.action, Path(args.dir), admin_url=args.admin_url,
                   **extra)


def cmd_channels(args: argparse.Namespace) -> int:
    from .oneapi.cli import run_channels

    return run_channels(_load(args), args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="llminfra", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def with_inventory(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("inventory", help="stack file (inventory/<env>.yml or its .py)")
        sp.add_argument("--secrets-file", help="dotenv file with secret values "
                        "(default: the stack's secrets_file)")

    c = sub.add_parser("check", help="validate a stack and print the plan of hosts, services, "
                       "tunnels, channels and tokens")
    with_inventory(c)
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("render", help="write every rendered file for review")
    with_inventory(r)
    r.add_argument("outdir")
    r.add_argument("--show-secrets", action="store_true",
                   help="write secret values into secret files (default: masked)")
    r.set_defaults(func=cmd_render)

    lab = sub.add_parser("lab", help="local lab: containers that behave like hosts")
    lab.add_argument("action", choices=["up", "down"])
    lab.add_argument("--repo", default=".", help="repository root (default: .)")
    lab.add_argument("--deploy", action="store_true", help="up: then deploy everything into "
                     "the lab and print the gateway URL and a working token")
    lab.add_argument("--remove-images", action="store_true", help="down: also remove images")
    lab.add_argument("--gpu-hosts", type=int, default=None, metavar="N",
                     help="up: N GPU hosts, 2..12 (gpu-3.. are like gpu-1; default: as running, "
                     "else 2)")
    lab.add_argument("--engine", choices=["oneapi", "litellm"], default="oneapi",
                     help="up: the gateway engine the lab inventory chooses (default: oneapi)")
    lab.add_argument("--flavor", choices=["oneapi", "new-api"], default=None,
                     help="up: OneAPI or New-API for the oneapi engine (default: "
                     "$LLMINFRA_LAB_FLAVOR, the running lab's, or oneapi)")
    lab.set_defaults(func=cmd_lab)

    from .oneapi.cliargs import add_channel_arguments

    gwp = sub.add_parser("gateway", help="back up or restore a gateway: its database (SQLite "
                         "copy or MySQL dump over SSH) plus a portable JSON export of channels "
                         "and tokens, keys in a separate 0600 file")
    gwp.add_argument("action", choices=["backup", "restore"])
    with_inventory(gwp)
    gwp.add_argument("dir", help="backup directory (one subdirectory per gateway)")
    gwp.add_argument("--gateway", help="only this gateway")
    gwp.add_argument("--admin-url", help="talk to this admin URL directly instead of through "
                     "an SSH tunnel (e.g. a local emulator)")
    gwp.add_argument("--from-export", action="store_true", help="restore: re-create channels "
                     "and tokens through the admin API instead of restoring the database "
                     "(token keys change)")
    gwp.add_argument("--force", action="store_true", help="restore: even into a gateway that "
                     "already has channels or tokens")
    gwp.set_defaults(func=cmd_gateway)

    ch = sub.add_parser("channels", help="plan or apply OneAPI channels and tokens")
    ch.add_argument("action", choices=["plan", "apply"])
    with_inventory(ch)
    add_channel_arguments(ch)
    ch.set_defaults(func=cmd_channels)

    cl = sub.add_parser("clients", help="base URL and key(s) ready to paste: openai SDK, curl, "
                        "NextChat, ChatTool; how to trust a self-signed certificate")
    with_inventory(cl)
    cl.add_argument("token", nargs="?", help="only this token (default: every declared token)")
    cl.add_argument("--gateway", help="the gateway (needed when there are several)")
    cl.add_argument("--url", help="base URL to hand out instead of https://<server_name>/v1 "
                    "(e.g. the gateway's address before DNS exists)")
    cl.set_defaults(func=cmd_clients)

    sm = sub.add_parser("smoke", help="through the public URL with the openai client: a streamed "
                        "chat per model (embeddings where declared); TTFT, chunk gaps, tokens/s")
    with_inventory(sm)
    sm.add_argument("--gateway", help="the gateway (needed when there are several)")
    sm.add_argument("--token", help="token to use (default: the first whose key is captured)")
    sm.add_argument("--model", action="append", help="only this model (repeatable)")
    sm.add_argument("--url", help="base URL to use instead of https://<server_name>/v1 "
                    "(e.g. the gateway's address before DNS exists)")
    sm.add_argument("--cacert", help="CA file to verify the gateway with")
    sm.add_argument("--include-external", action="store_true",
                    help="also call provider channels (they bill per call)")
    sm.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    sm.add_argument("--json", action="store_true", help="machine-readable results")
    sm.set_defaults(func=cmd_smoke)

    st = sub.add_parser("status", help="a row per hop: hosts, Docker, model containers and "
                        "readiness, tunnels, relays, channels, the public certificate")
    with_inventory(st)
    st.add_argument("--gateway", help="only this gateway's channels and certificate")
    st.add_argument("--connect", help="address to reach the public HTTPS port at, instead of "
                    "resolving server_name (e.g. before DNS exists)")
    st.add_argument("--cacert", help="CA file to verify the public certificate with")
    st.add_argument("--admin-url", help="admin API URL to use instead of an SSH tunnel")
    st.add_argument("--json", action="store_true", help="machine-readable rows")
    st.set_defaults(func=cmd_status)

    ad = sub.add_parser("admin", help="open an SSH forward to the gateway's loopback admin "
                        "port and print the web UI's URL (the public name does not serve it)")
    with_inventory(ad)
    ad.add_argument("--gateway", help="the gateway (needed when there are several)")
    ad.add_argument("--local-port", type=int, default=0,
                    help="local port of the forward (default: any free port)")
    ad.set_defaults(func=cmd_admin)

    hk = sub.add_parser("hostkey", help="show the SSH host key a host presents against the "
                        "pinned one; re-pin after explicit confirmation")
    with_inventory(hk)
    hk.add_argument("host", help="a host declared in the inventory")
    hk.add_argument("--pin", action="store_true", help="re-pin to the presented key (asks first)")
    hk.add_argument("--yes", action="store_true", help="with --pin: do not ask")
    hk.set_defaults(func=cmd_hostkey)

    sch = sub.add_parser("schema", help="print the inventory's JSON Schema (for editor completion)")
    sch.set_defaults(func=cmd_schema)

    ref = sub.add_parser("reference", help="print the data-key reference (Markdown)")
    ref.set_defaults(func=cmd_reference)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except StackError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except BrokenPipeError:  # `llminfra schema | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
