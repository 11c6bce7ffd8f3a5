"""Entrypoint of the lab's vLLM stand-in: takes vllm/vllm-openai's command line and serves
the bundled SmolLM2 GGUF with llama-cpp-python's real OpenAI-compatible server.

Flags that have a meaning here (served names, host, port, API key, context length) are
translated; GPU-only and unknown flags are logged and ignored, so a compose file written for
the real image runs unchanged.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

log = logging.getLogger("vllm-lab")

# vLLM flags that take one value and have no meaning on a CPU llama.cpp server
IGNORED_VALUED = (
    "--tensor-parallel-size", "-tp", "--pipeline-parallel-size", "-pp",
    "--gpu-memory-utilization", "--dtype", "--quantization", "-q", "--download-dir",
    "--kv-cache-dtype", "--max-num-seqs", "--max-num-batched-tokens", "--swap-space",
    "--tokenizer", "--revision", "--tokenizer-mode", "--load-format", "--chat-template",
    "--tool-call-parser", "--max-lora-rank", "--max-loras", "--seed", "--uvicorn-log-level",
    "--block-size", "--cpu-offload-gb", "--distributed-executor-backend", "--generation-config",
    "--reasoning-parser", "--limit-mm-per-prompt", "--hf-overrides", "--root-path",
)
IGNORED_SWITCHES = (
    "--trust-remote-code", "--enforce-eager", "--enable-prefix-caching",
    "--enable-chunked-prefill", "--enable-auto-tool-choice", "--disable-log-requests",
    "--disable-log-stats", "--enable-lora", "--disable-custom-all-reduce",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vllm-openai (lab)", allow_abbrev=False)
    p.add_argument("model_tag", nargs="?", help="`vllm serve MODEL` form")
    p.add_argument("--model")
    p.add_argument("--served-model-name", nargs="+", default=[])
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", default=os.environ.get("VLLM_API_KEY"))
    p.add_argument("--max-model-len", type=int)
    p.add_argument("--lora-modules", nargs="+", default=[])
    for flag in IGNORED_VALUED:
        p.add_argument(flag, dest="ignored_" + flag.lstrip("-").replace("-", "_"))
    for flag in IGNORED_SWITCHES:
        p.add_argument(flag, action="store_true", dest="ignored_" + flag.lstrip("-").replace("-", "_"))
    return p


def lora_names(specs: list[str]) -> list[str]:
    """vLLM accepts `name=path` or a JSON object with a `name` key."""
    names = []
    for spec in specs:
        if spec.lstrip().startswith("{"):
            names.append(json.loads(spec)["name"])
        else:
            names.append(spec.split("=", 1)[0])
    return names


def translate(argv: list[str]) -> dict:
    """vLLM argv -> settings for llama_cpp.server, plus what was ignored (for the log)."""
    args, unknown = parser().parse_known_args(argv)
    if args.model and args.model_tag:
        # with --model given, a stray word is the value of an unknown flag, not a model
        unknown.append(args.model_tag)
    model = args.model or args.model_tag or "SmolLM2-135M-Instruct"
    # vLLM names the model after --model unless --served-model-name is given; LoRA
    # adapters are listed as extra model names (the base model answers for them here)
    aliases = list(dict.fromkeys((args.served_model_name or [model]) + lora_names(args.lora_modules)))
    ignored = {k[len("ignored_"):]: v for k, v in vars(args).items()
               if k.startswith("ignored_") and v not in (None, False)}
    return {
        "aliases": aliases,
        "host": args.host,
        "port": args.port,
        "api_key": args.api_key,
        "n_ctx": args.max_model_len or 4096,
        "ignored": ignored,
        "unknown": unknown,
    }


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = translate(argv)
    if cfg["ignored"]:
        log.info("ignoring GPU-only/unsupported flags: %s", ", ".join(sorted(cfg["ignored"])))
    if cfg["unknown"]:
        log.info("ignoring unknown flags: %s", " ".join(cfg["unknown"]))
    log.info("serving %s as %s on %s:%s (n_ctx=%s, api key %s)", os.environ["LAB_MODEL_FILE"],
             ", ".join(cfg["aliases"]), cfg["host"], cfg["port"], cfg["n_ctx"],
             "set" if cfg["api_key"] else "unset")

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    server = ServerSettings(host=cfg["host"], port=cfg["port"], api_key=cfg["api_key"])
    models = [ModelSettings(model=os.environ["LAB_MODEL_FILE"], model_alias=alias,
                            n_ctx=cfg["n_ctx"], verbose=False) for alias in cfg["aliases"]]
    app = create_app(server_settings=server, model_settings=models)

    # vLLM serves these without the API key; compose healthchecks probe /health
    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        return {}

    @app.get("/version", include_in_schema=False)
    def version() -> dict:
        return {"version": "0.0.0+llminfra-lab"}

    uvicorn.run(app, host=cfg["host"], port=cfg["port"])


if __name__ == "__main__":
    main(sys.argv[1:])
