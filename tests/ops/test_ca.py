"""The local CA: what phones require of the certificates (SAN, serverAuth, at most 825 days, a chain to the
CA), keys kept private, refusals that say what to do, and `gridcmd serve`'s TLS settings."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from command.cli.server import tls
from command.ops.ca import CaError, fingerprint, init_ca, issue
from tests.environment import make_test_settings
from tests.procs import ROOT


def test_issue_makes_what_phones_accept(tmp_path) -> None:
    ca_path = init_ca(tmp_path)
    done = issue(tmp_path, names=["gridcmd.lan"], ips=["10.1.2.3", "127.0.0.1"])
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    leaf, chained_ca = x509.load_pem_x509_certificates(done.cert.read_bytes())
    assert chained_ca == ca  # served as a chain
    leaf.verify_directly_issued_by(ca)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gridcmd.lan"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.1.2.3"),
                                                       ipaddress.ip_address("127.0.0.1")]
    assert ExtendedKeyUsageOID.SERVER_AUTH in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=825, hours=1)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for key in (tmp_path / "ca.key", done.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(fingerprint(ca_path.read_bytes()).split(":")) == 32


def test_refusals(tmp_path) -> None:
    with pytest.raises(CaError, match="ca init"):
        issue(tmp_path, names=["a.lan"], ips=[])
    init_ca(tmp_path)
    before = (tmp_path / "ca.crt").read_bytes()
    with pytest.raises(CaError, match="--force"):
        init_ca(tmp_path)
    assert (tmp_path / "ca.crt").read_bytes() == before  # the CA phones trust is kept
    with pytest.raises(CaError, match="at least one"):
        issue(tmp_path, names=[], ips=[])
    with pytest.raises(CaError, match="not an IP"):
        issue(tmp_path, names=[], ips=["10.0.0.300"])
    with pytest.raises(CaError, match="825"):
        issue(tmp_path, names=["a.lan"], ips=[], days=3650)
    with pytest.raises(CaError, match="host name"):
        issue(tmp_path, names=["a lan"], ips=[])
    assert not (tmp_path / "server.crt").exists()
    init_ca(tmp_path, force=True)
    assert (tmp_path / "ca.crt").read_bytes() != before


def test_the_command_line(tmp_path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "command.cli", "ca", *args, "--dir", str(tmp_path)],
                              cwd=ROOT, capture_output=True, text=True)

    assert run("issue", "--name", "x.lan").returncode == 2  # no CA yet: says so, exit 2
    first = run("init")
    assert first.returncode == 0 and "SHA-256 fingerprint" in first.stdout
    out = run("issue", "--name", "gridcmd.lan", "--ip", "10.0.0.10")
    assert out.returncode == 0, out.stderr
    assert "GRIDCMD_TLS_CERT_FILE=" in out.stdout and (tmp_path / "server.crt").exists()


def test_serve_tls_settings(tmp_path) -> None:
    assert tls(make_test_settings()) == {}
    init_ca(tmp_path)
    done = issue(tmp_path, names=["a.lan"], ips=[])
    settings = make_test_settings(tls_cert_file=str(done.cert), tls_key_file=str(done.key))
    assert tls(settings) == {"ssl_certfile": str(done.cert), "ssl_keyfile": str(done.key)}
    with pytest.raises(SystemExit, match="not found"):
        tls(make_test_settings(tls_cert_file=str(done.cert), tls_key_file=str(tmp_path / "missing.key")))
