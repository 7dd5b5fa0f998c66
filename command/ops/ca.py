"""A local certificate authority for an intranet with no public CA: `gridcmd ca init` makes the CA (its key
never leaves ca_dir), `gridcmd ca issue --name … --ip …` a server certificate for the names and addresses the
phones use. Phones install ca.crt once (from /ca); then https:// on the LAN address is a secure context, so the
worker app gets location and its service worker.

Limits phones impose, kept here: a server certificate lives at most 825 days (iOS refuses longer) and names
every name and address in subjectAltName (the common name is ignored) with the serverAuth usage."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_KEY, CA_CERT = "ca.key", "ca.crt"
CA_DAYS = 3650
SERVER_DAYS_MAX = 825


class CaError(Exception):
    """Refused: says what to do instead."""


@dataclass(frozen=True, slots=True)
class Issued:
    cert: Path
    key: Path
    names: tuple[str, ...]
    ips: tuple[str, ...]
    not_after: dt.datetime


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def init_ca(directory: str | Path, *, common_name: str = "gridcmd local CA", force: bool = False) -> Path:
    """Create the CA key and certificate in `directory`; an existing CA is kept unless `force` (phones that
    trust it would have to install the new one). Returns the certificate's path."""
    folder = Path(directory)
    if (folder / CA_CERT).exists() and not force:
        raise CaError(f"a CA already exists in {folder} (phones trust it); use --force to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gridcmd")])
    now = _now()
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(folder / CA_KEY, key)
    (folder / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / CA_CERT


def load_ca(directory: str | Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    folder = Path(directory)
    if not (folder / CA_CERT).exists() or not (folder / CA_KEY).exists():
        raise CaError(f"no CA in {folder}: run `gridcmd ca init` first")
    cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CaError(f"{folder / CA_KEY} is not a key made by `gridcmd ca init`")
    return cert, key


def issue(directory: str | Path, *, names: list[str], ips: list[str], days: int = SERVER_DAYS_MAX,
          out_name: str = "server") -> Issued:
    """A server certificate (and its key) signed by the CA for the given DNS names and IP addresses, written as
    <out_name>.crt (the certificate followed by the CA's: the chain uvicorn serves) and <out_name>.key."""
    if not names and not ips:
        raise CaError("give at least one --name or --ip (what the phones type in the address bar)")
    if not 1 <= days <= SERVER_DAYS_MAX:
        raise CaError(f"--days must be 1-{SERVER_DAYS_MAX} (phones refuse longer server certificates)")
    try:
        addresses = [ipaddress.ip_address(ip) for ip in ips]
    except ValueError as exc:
        raise CaError(f"not an IP address: {exc}") from None
    for name in names:
        if not name or any(c.isspace() for c in name) or "/" in name:
            raise CaError(f"not a host name: {name!r}")
    ca_cert, ca_key = load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(a) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names or ips)[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = Path(directory)
    cert_path, key_path = folder / f"{out_name}.crt", folder / f"{out_name}.key"
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                          + ca_cert.public_bytes(serialization.Encoding.PEM))
    return Issued(cert_path, key_path, tuple(names), tuple(ips), not_after)


def ca_certificate(directory: str | Path) -> bytes | None:
    """The CA certificate (PEM) phones install, or None when there is no CA."""
    path = Path(directory) / CA_CERT
    return path.read_bytes() if path.is_file() else None


def fingerprint(pem: bytes) -> str:
    """SHA-256 of the certificate, as phones show it (AA:BB:…), to compare before trusting."""
    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)
