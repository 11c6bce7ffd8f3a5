"""`tls.mode: files`: the operator's certificate and key, checked on the operator's machine
before anything is uploaded. Nginx would otherwise refuse them on the host (or serve a
certificate clients reject) in the middle of a deploy."""

from __future__ import annotations

import datetime as dt
import ipaddress
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from .errors import line
from .stack import Stack
from .tls import TlsSettings
from .validate import file_problem, others_can_read

T = TypeVar("T")

Loc = tuple[object, ...]
EXPIRY_WARNING = dt.timedelta(days=14)  # renew before clients start failing
MAX_FILE = 1024 * 1024  # a chain is a few KB


class TlsFileError(Exception):
    """A file that cannot serve as what it should; the message names the file, not its bytes."""


def server_names(stack: Stack, host: str) -> list[str]:
    """Every name the host's Nginx serves with its TLS section's certificate."""
    if host in stack.gateways:
        return [stack.gateways[host].nginx.server_name]
    relay = stack.relays[host]
    names = [relay.server_name]
    if relay.routing == "host":
        names += [p.server_name for p in relay.providers if p.server_name]
    return names


def _read(path: str) -> bytes:
    with Path(path).open("rb") as fh:
        data = fh.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise TlsFileError(f"{path} is larger than 1 MiB")
    try:  # the deploy uploads it as text: a stray Latin-1 comment beside the PEM block
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TlsFileError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    return data


def load_certificate(path: str) -> x509.Certificate:
    """The first certificate of a PEM chain (the server's own), every field read here: the
    library parses some lazily and would raise later, on first use."""
    try:
        with warnings.catch_warnings():  # e.g. a non-positive serial: still usable today
            warnings.simplefilter("ignore")
            cert = x509.load_pem_x509_certificates(_read(path))[0]
            cert.version, cert.public_key(), cert.extensions  # noqa: B018
            cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
    except UnsupportedAlgorithm:
        raise TlsFileError(f"{path} holds a certificate for a key type Nginx's TLS cannot "
                           "use") from None
    except (ValueError, x509.InvalidVersion):
        raise TlsFileError(f"{path} holds no PEM certificate that parses") from None
    return cert


def load_key(path: str) -> PrivateKeyTypes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return serialization.load_pem_private_key(_read(path), password=None)
    except TypeError:
        raise TlsFileError(f"{path} is encrypted: Nginx cannot load a key that needs a "
                           "passphrase (write it unencrypted, mode 0600)") from None
    except UnsupportedAlgorithm:
        raise TlsFileError(f"{path} holds a key of a type Nginx's TLS cannot use") from None
    except ValueError:
        raise TlsFileError(f"{path} holds no PEM private key that parses") from None


def _spki(key: object) -> bytes:
    public = key.public_key()  # type: ignore[attr-defined]
    data: bytes = public.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return data


def _covers(pattern: str, name: str) -> bool:
    """RFC 6125 matching: exact, or a `*` that stands for the whole leftmost label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    first, dot, rest = name.partition(".")
    return bool(first and dot and rest == pattern[2:] and "." in rest)


def uncovered(cert: x509.Certificate, names: list[str]) -> tuple[list[str], bool]:
    """(names the certificate's subjectAltName does not cover, whether it has one at all).
    Browsers and the OpenAI SDK ignore the subject CN, so only the SAN counts."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return list(names), False
    dns = san.get_values_for_type(x509.DNSName)
    ips = san.get_values_for_type(x509.IPAddress)
    missing = []
    for name in names:
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            if not any(_covers(pattern, name) for pattern in dns):
                missing.append(name)
            continue
        if address not in ips:
            missing.append(name)
    return missing, True


def _pair_problems(tls: TlsSettings, names: list[str], now: dt.datetime
                   ) -> Iterator[tuple[str, str, bool]]:
    """(field, message, is_warning) for one files-mode section."""
    assert tls.cert_file and tls.key_file
    cert, problem = _load(tls.cert_file, load_certificate)
    if problem:
        yield "cert_file", problem, False
    key, problem = _load(tls.key_file, load_key)
    if key is not None:
        problem = others_can_read(tls.key_file)
    if problem:
        yield "key_file", problem, False
    if cert is None:
        return
    if key is not None and _spki(key) != _spki(cert):
        yield "key_file", (f"{tls.key_file} is not the private key of the certificate in "
                           f"{tls.cert_file}"), False
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    if after <= now:
        yield "cert_file", f"{tls.cert_file} expired on {after:%Y-%m-%d %H:%M} UTC", False
    elif after - now <= EXPIRY_WARNING:
        yield "cert_file", (f"{tls.cert_file} expires on {after:%Y-%m-%d %H:%M} UTC, within "
                            f"{EXPIRY_WARNING.days} days: renew it"), True
    if before > now:
        yield "cert_file", (f"{tls.cert_file} is not valid before {before:%Y-%m-%d %H:%M} UTC "
                            "(clients refuse it until then; is this machine's clock right?)"), False
    missing, has_san = uncovered(cert, names)
    if not has_san:
        yield "cert_file", (f"{tls.cert_file} has no subjectAltName: clients ignore the "
                            f"subject's CN, so it covers none of {', '.join(names)}"), False
    elif missing:
        yield "cert_file", (f"{tls.cert_file} does not cover {', '.join(missing)} (its "
                            "subjectAltName lists the names clients accept it for)"), False


def _load(path: str, loader: Callable[[str], T]) -> tuple[T | None, str | None]:
    """(what ``loader`` read, None) or (None, why the file is unusable)."""
    problem = file_problem(path)
    if problem:
        return None, problem
    try:
        return loader(path), None
    except (TlsFileError, OSError) as exc:
        return None, _why(exc, path)


def _why(exc: Exception, path: str) -> str:
    if isinstance(exc, OSError):
        return f"cannot read {path}: {exc.strerror or exc}"
    return str(exc)


def check_tls_files(stack: Stack, now: dt.datetime | None = None
                    ) -> tuple[list[str], list[str]]:
    """(errors, warnings) for every `tls.mode: files` section: each file exists and parses
    (a certificate chain; an unencrypted private key, not readable by other users), the key
    belongs to the certificate, which is valid now (expiring soon: a warning) and whose
    subjectAltName covers every name the host serves."""
    now = now or dt.datetime.now(dt.UTC)
    errors: list[str] = []
    warnings: list[str] = []
    for host, loc, tls in stack.tls_settings():
        if tls.mode != "files":
            continue
        for field, message, warning in _pair_problems(tls, server_names(stack, host), now):
            (warnings if warning else errors).append(line(loc + (field,), message))
    return errors, warnings
