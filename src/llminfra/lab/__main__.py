"""python -m llminfra.lab up|down [--remove-images] [--repo DIR] (what `llminfra lab` calls)."""

import argparse
import sys
from pathlib import Path

from llminfra.lab import LabError, down, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llminfra lab")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--repo", type=lambda p: Path(p).resolve(), default=Path.cwd(),
                        help="repository root")
    parser.add_argument("--remove-images", action="store_true", help="down: also remove images")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            state = up(args.repo)
            for host in state.hosts.values():
                via = " (tunnel-only in the inventory)" if host.tunnel_only else ""
                print(f"{host.name:8} {host.role:8} {host.address}{via}")
            print(f"upstream {state.upstream_address}; inventory: inventory/lab.yml")
        else:
            down(args.repo, remove_images=args.remove_images)
            print("lab removed")
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
