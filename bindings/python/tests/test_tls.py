"""``tls://`` targets from Python: the core's TLS client reached through
the target string alone (``?ca=``, ``&cert=``, ``&key=``), against
``ninefold serve --listen tls://`` with certificates made by ``openssl``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import ninefold
from conftest import ninefold_bin, wait_log


def openssl(*args: str) -> None:
    if not shutil.which("openssl"):
        pytest.fail("openssl is not installed (apt-get install -y openssl)", pytrace=False)
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(d: Path) -> None:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other"):
        openssl(
            "req",
            "-x509",
            *ec,
            "-days",
            "2",
            "-subj",
            f"/CN={ca}",
            "-keyout",
            str(d / f"{ca}.key"),
            "-out",
            str(d / f"{ca}.pem"),
        )
    for leaf, san in (("server", "IP:127.0.0.1,DNS:localhost"), ("client", "")):
        openssl(
            "req",
            *ec,
            "-subj",
            f"/CN=py-{leaf}",
            "-keyout",
            str(d / f"{leaf}.key"),
            "-out",
            str(d / f"{leaf}.csr"),
        )
        # An extension makes it an X.509 v3 certificate (v1 is refused).
        ext = "basicConstraints=CA:FALSE\n" + (f"subjectAltName={san}\n" if san else "")
        (d / f"{leaf}.ext").write_text(ext)
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / f"{leaf}.csr"),
            "-CA",
            str(d / "ca.pem"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(d / f"{leaf}.ext"),
            "-out",
            str(d / f"{leaf}.pem"),
        )


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="ninefold-py-tls-") as tmp:
        d = Path(tmp)
        make_pki(d)
        log = d / "server.log"
        proc = subprocess.Popen(
            [
                ninefold_bin(),
                "serve",
                "--memory",
                "--listen",
                "tls://127.0.0.1:0",
                "--tls-cert",
                str(d / "server.pem"),
                "--tls-key",
                str(d / "server.key"),
                "--tls-client-ca",
                str(d / "ca.pem"),
                "--tls-require-client-cert",
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            port = wait_log(log, r"listening on tls://127\.0\.0\.1:(\d+)", proc).group(1)
            yield f"tls://127.0.0.1:{port}", d
        finally:
            proc.terminate()
            proc.wait(10)


def test_tls_target_with_ca_and_client_certificate(tls_server: tuple[str, Path]) -> None:
    base, d = tls_server
    target = f"{base}?ca={d / 'ca.pem'}&cert={d / 'client.pem'}&key={d / 'client.key'}"
    c = ninefold.connect_sync(target)
    c.write("/hello.txt", b"hello over tls")
    assert c.read("/hello.txt") == b"hello over tls"
    c.close()


def test_tls_errors_are_readable(tls_server: tuple[str, Path]) -> None:
    base, d = tls_server
    with pytest.raises(ninefold.NinefoldError) as e:
        ninefold.connect_sync(f"{base}?ca={d / 'other.pem'}")
    assert "not signed by a trusted CA" in str(e.value)
    with pytest.raises(ninefold.NinefoldError) as e:
        ninefold.connect_sync(f"{base}?ca={d / 'ca.pem'}")
    assert "requires a client certificate" in str(e.value)
    with pytest.raises(ninefold.NinefoldError) as e:
        ninefold.connect_sync(f"{base}?ca={d / 'ca.pem'}&bogus=1")
    assert "unknown TLS parameter" in str(e.value)
