"""Facts gathered for real from @local (a machine without GPU or nvidia-smi)."""

from __future__ import annotations

import shutil

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.facts import get_facts

from llminfra.facts.gpu import NvidiaGpus
from llminfra.facts.ssh import SshKeypair


def local_fact(fact, **kwargs):
    state = State(Inventory((["@local"], {})), Config())
    connect_all(state)
    return next(iter(get_facts(state, fact, kwargs=kwargs).values()))


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host has nvidia-smi")
def test_no_nvidia_smi_means_no_gpus():
    assert local_fact(NvidiaGpus) == []


def test_keypair_fact_reads_real_key(tmp_path):
    import subprocess

    key = tmp_path / "id"
    assert local_fact(SshKeypair, path=str(key)) is None
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "c@h", "-f", key],
                   check=True)  # fmt: skip
    fact = local_fact(SshKeypair, path=str(key))
    assert fact["private"] is True
    assert fact["public"] == (tmp_path / "id.pub").read_text().strip()
