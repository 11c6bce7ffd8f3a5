"""python -m llminfra_lab up|down [--engine oneapi|litellm] [--flavor oneapi|new-api]
[--gpu-hosts N] [--deploy] [--remove-images] [--repo DIR]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llminfra_lab import LabError, down, up


def run(action: str, repo: Path, deploy: bool = False, remove_images: bool = False,
        engine: str = "oneapi", flavor: str | None = None, gpu_hosts: int | None = None) -> int:
    """What `llminfra lab ACTION` does; shared by that command and `python -m llminfra_lab`."""
    try:
        if action == "up":
            state = up(repo, engine=engine, flavor=flavor, gpu_hosts=gpu_hosts)
            for host in state.hosts.values():
                via = " (tunnel-only in the inventory)" if host.tunnel_only else ""
                print(f"{host.name:8} {host.role:8} {host.address}{via}")
            print(f"upstream {state.upstream_address}; inventory: inventory/lab.yml "
                  f"(engine {state.engine}, flavour {state.flavor})")
        else:
            down(repo, remove_images=remove_images)
            print("lab removed")
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if action == "up" and deploy:
        from llminfra_lab.demo import deploy_and_show

        return deploy_and_show(repo)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llminfra lab")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--repo", type=lambda p: Path(p).resolve(), default=Path.cwd(),
                        help="repository root")
    parser.add_argument("--deploy", action="store_true", help="up: then deploy into the lab")
    parser.add_argument("--remove-images", action="store_true", help="down: also remove images")
    parser.add_argument("--engine", choices=["oneapi", "litellm"], default="oneapi",
                        help="up: the gateway engine of inventory/lab.yml (default: oneapi)")
    parser.add_argument("--flavor", choices=["oneapi", "new-api"], default=None,
                        help="up: OneAPI or New-API when the engine is oneapi (default: "
                        "$LLMINFRA_LAB_FLAVOR, the running lab's, or oneapi)")
    parser.add_argument("--gpu-hosts", type=int, default=None, metavar="N",
                        help="up: N GPU hosts, 2..12 (gpu-3.. are like gpu-1; default: as "
                        "running, else 2)")
    args = parser.parse_args(argv)
    return run(args.action, args.repo, deploy=args.deploy, remove_images=args.remove_images,
               engine=args.engine, flavor=args.flavor, gpu_hosts=args.gpu_hosts)


if __name__ == "__main__":
    sys.exit(main())
