"""Runs inside the real vLLM image (python -c): checks command lines with vLLM's own parser.

argv[1] is a JSON list of {"argv": [...], "deep": bool}. Each command line goes through what
vLLM's API server does before loading weights: its argument parser, its serve-args checks and,
when ``deep``, the engine configuration (model config, dtype, context length, parsers), which
reads the model's files but loads no weights. Prints one line: ``RESULTS <json list>``.
"""

import contextlib
import io
import json
import sys

from vllm.engine.arg_utils import AsyncEngineArgs
from vllm.entrypoints.launchers.cli_args import make_arg_parser, validate_parsed_serve_args
from vllm.utils.argparse_utils import FlexibleArgumentParser


def check(argv, deep):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            parser = make_arg_parser(FlexibleArgumentParser(prog="vllm-api-server"))
            args = parser.parse_args(argv)
            validate_parsed_serve_args(args)
            if deep:
                AsyncEngineArgs.from_cli_args(args).create_engine_config()
    except SystemExit as exc:  # argparse: unknown flag or bad value
        return {"ok": False, "exit": exc.code, "error": err.getvalue().strip()[-800:]}
    except Exception as exc:  # noqa: BLE001 - any refusal is the answer
        return {"ok": False, "exit": None, "error": f"{type(exc).__name__}: {exc}"[:800]}
    return {"ok": True}


results = [check(c["argv"], c["deep"]) for c in json.loads(sys.argv[1])]
print("RESULTS " + json.dumps(results), flush=True)
