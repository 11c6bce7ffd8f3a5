"""The GPU parser against the real captures in data/nvidia-smi/, and check_pinning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyinfra.api.exceptions import FactProcessError

from llminfra.facts.gpu import Gpu, NvidiaGpus, check_pinning

DATA = Path(__file__).parent / "data" / "nvidia-smi"


def parse(host: str) -> list[Gpu]:
    return NvidiaGpus().process((DATA / host / "nvidia-smi-query.csv").read_text().splitlines())


@pytest.mark.parametrize("host", ["h200-x1", "h200-x2"])
def test_parser_agrees_with_nvidia_smi_L(host):
    # `nvidia-smi -L` is an independent view of the same GPUs: "GPU 0: NAME (UUID: ...)".
    listed = re.findall(
        r"GPU (\d+): (.+) \(UUID: (\S+)\)", (DATA / host / "nvidia-smi-L.txt").read_text()
    )
    assert [(str(g.index), g.name, g.uuid) for g in parse(host)] == listed


@pytest.mark.parametrize("host", ["h200-x1", "h200-x2"])
def test_parser_agrees_with_the_table(host):
    table = (DATA / host / "nvidia-smi.txt").read_text()
    driver = re.search(r"Driver Version: (\S+)", table).group(1)
    memory = [int(m) for m in re.findall(r"/ +(\d+)MiB", table)]
    gpus = parse(host)
    assert {g.driver_version for g in gpus} == {driver}
    assert [g.memory_total_mib for g in gpus] == memory


def test_header_output_is_rejected():
    # Output with a header (forgot noheader) must fail the host, not yield a bogus GPU.
    lines = (DATA / "h200-x1" / "nvidia-smi-query-header.csv").read_text().splitlines()
    with pytest.raises(FactProcessError):
        NvidiaGpus().process(lines)


def test_default_is_empty_list():
    assert NvidiaGpus.default() == []


def test_pinning_ok():
    assert check_pinning(parse("h200-x2"), [0, 1]) == []
    assert check_pinning(parse("h200-x1"), []) == []
    assert check_pinning([], []) == []


def test_pinning_out_of_range_and_duplicates():
    assert check_pinning(parse("h200-x2"), [1, 2, 1, -1]) == [
        "GPU 2 does not exist (host has 2: 0, 1)",
        "GPU 1 is requested more than once",
        "GPU -1 does not exist (host has 2: 0, 1)",
    ]


def test_pinning_without_gpus():
    assert check_pinning([], [0, 1]) == [
        "GPU(s) 0, 1 requested but no NVIDIA GPU was found (nvidia-smi)"
    ]


def test_pinning_accepts_fact_dicts():
    # Inside an op under pyinfra-testing, fact rows arrive as dicts.
    assert check_pinning([{"index": 0}], [1]) == ["GPU 1 does not exist (host has 1: 0)"]
