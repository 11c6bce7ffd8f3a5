"""`llminfra hostkey`: fingerprints, keyscan parsing, and a re-pin that edits one value only."""

import base64
import hashlib
import subprocess

import pytest

from llminfra.hostkey import (HostKeyError, Presented, fingerprint, keyscan_argv, parse_keyscan,
                              pinned_matches, repin)

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw3hrqqjSTb/qLWzvkZ/FkxUTX42glyh8OA5pWzex2s"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIInqsuzFgz2cMJyc6q2XUPDh0A/VGh/NSIlzrSDxFNVo"


def test_fingerprint_matches_ssh_keygen(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp_path / "k"], check=True)
    pub = (tmp_path / "k.pub").read_text()
    shown = subprocess.run(["ssh-keygen", "-lf", tmp_path / "k.pub"], capture_output=True,
                           text=True, check=True).stdout.split()[1]
    assert fingerprint(pub) == shown


def test_fingerprint_of_garbage_is_said_not_raised():
    assert fingerprint("ssh-ed25519 !!!") == "(not a public key)"
    assert fingerprint("") == "(not a public key)"


def test_keyscan_argv_exact():
    assert keyscan_argv("gpu-1.example.net", 2222) == [
        "ssh-keyscan", "-T", "10", "-p", "2222", "-t", "ed25519,ecdsa,rsa", "gpu-1.example.net"]


def test_parse_keyscan_prefers_ed25519_and_skips_comments():
    out = ("# gpu-1:22 SSH-2.0-OpenSSH_9.6\n"
           "gpu-1 ssh-rsa AAAAB3NzaC1yc2E\n"
           f"[gpu-1]:2222 {KEY_A}\n"
           "gpu-1 unknown-type AAAA\n")
    assert [p.key for p in parse_keyscan(out)] == ["ssh-ed25519 " + KEY_A.split()[1],
                                                    "ssh-rsa AAAAB3NzaC1yc2E"]


def test_pinned_matches_only_an_exact_key():
    assert pinned_matches(KEY_A, [Presented(KEY_A)])
    assert not pinned_matches(KEY_A, [Presented(KEY_B)])
    assert not pinned_matches(None, [Presented(KEY_A)])


def test_repin_rewrites_only_that_value(tmp_path):
    f = tmp_path / "prod.yml"
    text = (f"gpu_hosts:\n  gpu-1:\n    ssh:\n      host: 10.0.0.1\n      host_key: {KEY_A}  # pinned\n"
            f"  gpu-2:\n    ssh:\n      host: 10.0.0.2\n      host_key: '{KEY_B}'\n")
    f.write_text(text)
    new = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWN"
    repin(f, KEY_B, new, "gpu-2")
    assert f.read_text() == text.replace(KEY_B, new)


def test_repin_refuses_when_nothing_or_several_are_pinned(tmp_path):
    f = tmp_path / "prod.yml"
    f.write_text(f"a:\n  host_key: {KEY_A}\nb:\n  host_key: {KEY_A}\n")
    with pytest.raises(HostKeyError, match="appears 2 times"):
        repin(f, KEY_A, KEY_B, "a")
    with pytest.raises(HostKeyError, match="no host_key is pinned yet"):
        repin(f, None, KEY_B, "a")


def test_fingerprint_is_sha256_of_the_blob():
    blob = base64.b64decode(KEY_A.split()[1])
    want = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert fingerprint(KEY_A) == "SHA256:" + want


def test_a_host_with_nothing_pinned_gets_the_line_to_add(tmp_path, monkeypatch, capsys):
    from llminfra import hostkey
    from llminfra.cli import main

    stack = tmp_path / "s.yml"
    stack.write_text("gpu_hosts:\n  gpu-1:\n    ssh: {host: 10.0.0.1}\n")
    monkeypatch.setattr(hostkey, "scan", lambda host, port: [Presented(KEY_A)])
    assert main(["hostkey", str(stack), "gpu-1"]) == 1
    out = capsys.readouterr().out
    assert "nothing is pinned yet" in out
    assert out.rstrip().endswith(f"host_key: {KEY_A}")
    assert stack.read_text() == "gpu_hosts:\n  gpu-1:\n    ssh: {host: 10.0.0.1}\n"
