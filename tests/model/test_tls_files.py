"""`tls.mode: files`: check parses the operator's certificate and key, matches them, reads the
dates and the names, and says what is wrong in one line per field (never a traceback)."""

import base64
import random

import pytest
from certmaker import cert_pair, other_key
from cryptography.hazmat.primitives import serialization

from llminfra.model import StackError, parse_stack
from llminfra.model.tlsfiles import _covers


def files_tls(base, cert, key, where="gateway"):
    tls = {"mode": "files", "cert_file": str(cert), "key_file": str(key)}
    if where == "gateway":
        base["gateways"]["gw-1"]["nginx"]["tls"] = tls
    else:
        base["relays"]["relay-1"]["tls"] = tls
    return base


def errors(base, secrets):
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    return info.value.lines


def test_a_matching_current_pair_for_the_server_name_passes(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"])
    stack = parse_stack(files_tls(base, cert, key), environ=secrets)
    assert stack.warnings == []


def test_expired_certificate(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"], days=-2, start_days=-30)
    [problem] = errors(files_tls(base, cert, key), secrets)
    assert problem.startswith(f"gw-1: nginx/tls/cert_file: {cert} expired on ")
    assert problem.endswith(" UTC")


def test_certificate_expiring_within_14_days_is_a_warning(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"], days=7)
    stack = parse_stack(files_tls(base, cert, key), environ=secrets)
    [warning] = stack.warnings
    assert warning.startswith(f"gw-1: nginx/tls/cert_file: {cert} expires on ")
    assert warning.endswith("UTC, within 14 days: renew it")


def test_certificate_not_valid_yet(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"], start_days=2, days=90)
    [problem] = errors(files_tls(base, cert, key), secrets)
    assert f"{cert} is not valid before " in problem and "clock" in problem


def test_certificate_for_another_name(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["other.test", "10.0.0.3"])
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/cert_file: {cert} does not cover api.test (its subjectAltName lists the "
        "names clients accept it for)"]


def test_certificate_without_subject_alt_name(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"], san=False)  # CN=api.test only
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/cert_file: {cert} has no subjectAltName: clients ignore the subject's "
        "CN, so it covers none of api.test"]


def test_ip_server_name_needs_an_ip_entry(base, secrets, tmp_path):
    base["gateways"]["gw-1"]["nginx"]["server_name"] = "203.0.113.7"
    cert, key = cert_pair(tmp_path, ["203.0.113.7"])
    parse_stack(files_tls(base, cert, key), environ=secrets)
    cert, key = cert_pair(tmp_path / "dns", ["api.test"])
    assert "does not cover 203.0.113.7" in errors(files_tls(base, cert, key), secrets)[0]


def test_relay_with_host_routing_needs_every_provider_name(base, secrets, tmp_path):
    relay = base["relays"]["relay-1"]
    relay["routing"] = "host"
    relay["providers"][0]["server_name"] = "openai.relay.test"
    relay["providers"][1]["server_name"] = "claude.relay.test"
    cert, key = cert_pair(tmp_path, ["relay.test", "openai.relay.test"])
    assert errors(files_tls(base, cert, key, "relay"), secrets) == [
        f"relay-1: tls/cert_file: {cert} does not cover claude.relay.test (its subjectAltName "
        "lists the names clients accept it for)"]
    cert, key = cert_pair(tmp_path / "wild", ["relay.test", "*.relay.test"])
    parse_stack(files_tls(base, cert, key, "relay"), environ=secrets)


def test_key_of_another_certificate(base, secrets, tmp_path):
    cert, _ = cert_pair(tmp_path, ["api.test"])
    key = other_key(tmp_path / "other.key")
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/key_file: {key} is not the private key of the certificate in {cert}"]


def test_encrypted_key(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"])
    loaded = serialization.load_pem_private_key(key.read_bytes(), None)
    key.write_bytes(loaded.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"secret-pass")))
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/key_file: {key} is encrypted: Nginx cannot load a key that needs a "
        "passphrase (write it unencrypted, mode 0600)"]


@pytest.mark.parametrize("content,cert_says,key_says", [
    (b"\x00\xff\xfe garbage \x89PNG\r\n", "is not UTF-8 text (byte 1)",
     "is not UTF-8 text (byte 1)"),
    (b"\x00\x01 zeros are UTF-8", "holds no PEM certificate that parses",
     "holds no PEM private key that parses"),
    (b"", "holds no PEM certificate that parses", "holds no PEM private key that parses"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
     "holds no PEM certificate that parses", "holds no PEM private key that parses"),
])
def test_garbage_in_either_file_is_one_line_each(base, secrets, tmp_path, content, cert_says,
                                                 key_says):
    cert, key = tmp_path / "x.crt", tmp_path / "x.key"
    cert.write_bytes(content)
    key.write_bytes(content)
    key.chmod(0o600)
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/cert_file: {cert} {cert_says}",
        f"gw-1: nginx/tls/key_file: {key} {key_says}"]


def test_text_around_the_pem_block_must_be_utf8(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"])
    cert.write_bytes(b"# caf\xe9 certificate\n" + cert.read_bytes())  # Latin-1, parses as PEM
    assert errors(files_tls(base, cert, key), secrets) == [
        f"gw-1: nginx/tls/cert_file: {cert} is not UTF-8 text (byte 5)"]


def test_certificate_and_key_swapped(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"])
    assert errors(files_tls(base, key, cert), secrets) == [
        f"gw-1: nginx/tls/cert_file: {key} holds no PEM certificate that parses",
        f"gw-1: nginx/tls/key_file: {cert} holds no PEM private key that parses"]


def test_missing_and_directory(base, secrets, tmp_path):
    assert errors(files_tls(base, tmp_path / "nope.crt", tmp_path), secrets) == [
        f"gw-1: nginx/tls/cert_file: {tmp_path / 'nope.crt'} does not exist",
        f"gw-1: nginx/tls/key_file: {tmp_path} is a directory, not a file"]


def test_the_leaf_of_a_chain_is_the_one_checked(base, secrets, tmp_path):
    cert, key = cert_pair(tmp_path, ["api.test"])
    other, _ = cert_pair(tmp_path / "ca", ["ca.test"], stem="ca")
    cert.write_bytes(cert.read_bytes() + other.read_bytes())  # leaf first, then the chain
    parse_stack(files_tls(base, cert, key), environ=secrets)


@pytest.mark.parametrize("pattern,name,covered", [
    ("api.test", "API.test.", True), ("*.relay.test", "openai.relay.test", True),
    ("*.relay.test", "relay.test", False), ("*.relay.test", "a.b.relay.test", False),
    ("*.test", "api.test", False),  # a wildcard never spans a whole public suffix
])
def test_name_matching(pattern, name, covered):
    assert _covers(pattern, name) is covered


@pytest.mark.parametrize("which", ["cert", "key"])
def test_corrupted_files_are_refused_in_one_line_never_a_traceback(base, secrets, tmp_path, which):
    """Flipped bytes inside valid PEM: some fields only fail when first read (version, key
    type, curve), which must happen inside the check."""
    cert, key = cert_pair(tmp_path, ["api.test"])
    target = cert if which == "cert" else key
    head, *body, tail = target.read_text().splitlines()
    der = base64.b64decode("".join(body))
    rng = random.Random(7)
    files_tls(base, cert, key)
    for _ in range(300):
        mutated = bytearray(der)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        target.write_text(f"{head}\n{base64.encodebytes(bytes(mutated)).decode()}{tail}\n")
        try:
            parse_stack(base, environ=secrets)
        except StackError as exc:
            assert all(str(target) in line for line in exc.lines)
