"""serve --tls: HTTPS towards the viewer with a local CA, and CloudFront's http -> https redirect."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.servers import EDGESHIELD, Edge


@pytest.fixture(scope="module")
def tls_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    edge = Edge(tmp_path_factory.mktemp("tls"), None, None, ("--tls", "--http-port", "0"))
    yield edge
    edge.close()


def _context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_https_with_the_local_ca(tls_edge: Edge) -> None:
    assert tls_edge.url.startswith("https://127.0.0.1:")
    with urllib.request.urlopen(
        tls_edge.url + "/", context=_context(tls_edge.ca_file), timeout=10
    ) as response:
        assert response.status == 200
        assert (
            response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
        )
        assert response.headers["X-Cache"] == "Miss from cloudfront"


def test_certificate_names_loopback_and_localhost(tls_edge: Edge) -> None:
    port = int(tls_edge.url.rsplit(":", 1)[1])
    context = _context(tls_edge.ca_file)
    for name in ("localhost", "127.0.0.1"):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_old_tls_versions_are_refused(tls_edge: Edge) -> None:
    """CloudFront's TLSv1.2_2021 policy: nothing below TLS 1.2."""
    port = int(tls_edge.url.rsplit(":", 1)[1])
    context = _context(tls_edge.ca_file)
    with pytest.warns(DeprecationWarning):  # Python itself discourages these versions
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname="localhost")


def test_plain_http_redirects_like_cloudfront(tls_edge: Edge) -> None:
    assert tls_edge.redirect_url is not None

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(tls_edge.redirect_url + "/a/b?x=1", timeout=10)
    error = raised.value
    assert error.code == 301
    assert error.headers["Location"] == tls_edge.url + "/a/b?x=1"
    assert error.headers["Server"] == "CloudFront"
    assert error.headers["X-Cache"] == "Redirect from cloudfront"
    # Every answer CloudFront makes carries its Via, POP and request id.
    assert re.match(r"^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$", error.headers["Via"])
    assert error.headers["X-Amz-Cf-Pop"] == "IAD89-C1"
    assert re.match(r"^[A-Za-z0-9_-]{54}==$", error.headers["X-Amz-Cf-Id"])


def test_the_https_local_edge_scans_a_plus(tls_edge: Edge) -> None:
    """With HTTPS and the redirect, the strict preset earns the top grade from a real scan."""
    import json

    assert tls_edge.redirect_url is not None
    http_port = tls_edge.redirect_url.rsplit(":", 1)[1]
    https_port = tls_edge.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [EDGESHIELD, "scan", tls_edge.redirect_url + "/", "--http-port", http_port, "--https-port", https_port,
         "--ca-file", str(tls_edge.ca_file), "--format", "json", "--timeout", "5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    (report,) = json.loads(result.stdout)
    assert (report["score"], report["grade"]) == (150, "A+"), report["tests"]
    assert report["tests"]["redirection"]["result"] == "redirection-to-https"
    assert (
        report["tests"]["strict-transport-security"]["result"]
        == "hsts-implemented-max-age-at-least-six-months"
    )


def test_certificate_is_reused_across_restarts(tls_edge: Edge, tmp_path: Path) -> None:
    before = tls_edge.ca_file.read_bytes()
    again = Edge(tls_edge.workdir, None, None, ("--tls",))
    try:
        assert tls_edge.ca_file.read_bytes() == before
    finally:
        again.close()


def test_your_own_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    edge = Edge(tmp_path, None, None, ("--tls-cert", "cert.pem", "--tls-key", "key.pem"))
    try:
        with urllib.request.urlopen(
            edge.url + "/", context=_context(tmp_path / "ca.pem"), timeout=10
        ) as response:
            assert response.status == 200
        assert not (tmp_path / ".edgeshield" / "tls").exists()
    finally:
        edge.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--http-port", "0"), "--http-port redirects to HTTPS, so it needs --tls"),
        (("--tls-cert", "missing.pem", "--tls-key", "missing.pem"), "missing.pem: no such file"),
        (("--tls-key", "k.pem", "--tls"), "--tls-cert and --tls-key go together"),
    ],
)
def test_tls_usage_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = subprocess.run(
        [EDGESHIELD, "serve", "--port", "0", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
