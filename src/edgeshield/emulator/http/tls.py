"""HTTPS for the local edge, as CloudFront serves viewers.

Browsers treat plain-HTTP pages differently from the HTTPS ones CloudFront delivers: Chromium
sends Reporting-API reports (CSP ``report-to``) only to HTTPS endpoints, and then ignores
``report-uri``; HSTS is ignored over HTTP. So ``serve --tls`` listens with a certificate, by
default one it makes: a local CA (``ca.pem``, which you may add to a browser's trust store to
avoid the warning) and a server certificate for 127.0.0.1, ::1 and localhost signed by it.
Both live under ``.edgeshield/tls/`` and are remade when they are about to expire.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

VALID_DAYS = 90
RENEW_BEFORE = datetime.timedelta(days=7)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # server certificate chain (PEM)
    key: Path  # its private key (PEM)
    ca: Path | None  # the CA that signed it, when edgeshield made it


def _still_valid(cert_path: Path) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    now = datetime.datetime.now(datetime.UTC)
    return cert.not_valid_after_utc - RENEW_BEFORE > now


def ensure_local_certificate(directory: Path) -> TlsFiles:
    """A CA and a server certificate for the loopback names, made once and reused."""
    files = TlsFiles(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    if (
        files.key.is_file()
        and files.ca is not None
        and files.ca.is_file()
        and _still_valid(files.cert)
    ):
        return files

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=VALID_DAYS)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgeshield local edge CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    key_bytes = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(files.key, key_bytes)
    files.cert.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    assert files.ca is not None
    files.ca.write_bytes(ca_cert.public_bytes(pem))
    return files


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only, whatever file (or link) was there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)  # replaces a link itself, never writes through it


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """TLS 1.2 or newer, as CloudFront's recommended viewer security policy (TLSv1.2_2021)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert, files.key)
    return context
