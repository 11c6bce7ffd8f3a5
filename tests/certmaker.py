"""Self-signed certificates and keys on the 'operator's machine' for `tls.mode: files` tests
(`check` parses them, matches key and certificate, and reads their names and dates)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pair(directory: Path, names: list[str] | tuple[str, ...], days: float = 90,
              start_days: float = -1, stem: str = "tls", san: bool = True) -> tuple[Path, Path]:
    """(cert, key) files, the key 0600, valid from now+start_days for `days` days."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    start = now + dt.timedelta(days=start_days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "x")])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(now + dt.timedelta(days=days)))
    if san:
        alt: list[x509.GeneralName] = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    cert_file, key_file = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_key_pem(key))
    key_file.chmod(0o600)
    return cert_file, key_file


def other_key(path: Path) -> Path:
    """A valid private key that belongs to no certificate here."""
    path.write_bytes(_key_pem(ec.generate_private_key(ec.SECP256R1())))
    path.chmod(0o600)
    return path
