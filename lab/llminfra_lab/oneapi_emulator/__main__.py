"""``python3 -m llminfra_lab.oneapi_emulator [--port N] [--flavor oneapi|newapi]``: serve
until SIGTERM/SIGINT."""
import argparse
import os
import signal
import sys

from . import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="one-api-emulator")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "0.0.0.0"))
    parser.add_argument("--flavor", choices=["oneapi", "newapi"], default=None,
                        help="admin API dialect (default: $EMULATOR_FLAVOR or oneapi)")
    args = parser.parse_args(argv)
    port = int(os.environ.get("PORT") or args.port or 3000)
    state = os.environ.get("EMULATOR_STATE", "/data/one-api.json")
    emu = Emulator(state, host=args.host, port=port, env=os.environ, flavor=args.flavor)
    # As PID 1 in a container SIGTERM would otherwise be ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{emu.flavor} emulator listening on {args.host}:{emu.port}", flush=True)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
