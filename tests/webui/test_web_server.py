"""Web UI server: the threading wsgiref server answers on loopback and logs quietly."""
import logging
import threading
import urllib.error
import urllib.request

import pytest

from callbox_web import server

pytestmark = pytest.mark.sim


def test_threading_server_on_loopback(make, caplog):
    app = make()
    srv = server.make_server(app, "127.0.0.1", 0)
    assert isinstance(srv, server.ThreadingWSGIServer) and srv.daemon_threads
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        base = "http://127.0.0.1:%d" % srv.server_port
        with caplog.at_level(logging.DEBUG, logger="callbox.web"):
            with urllib.request.urlopen(base + "/setup", timeout=5) as r:
                assert r.status == 200 and b"First boot" in r.read()
                assert r.headers["X-Frame-Options"] == "DENY"
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(base + "/no-such-page", timeout=5)
            assert e.value.code == 404
        assert any("GET /setup" in rec.getMessage() for rec in caplog.records if rec.name == "callbox.web")
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def test_bind_error_names_the_address(make):
    srv = server.make_server(make(), "127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="Binding the web UI to 127.0.0.1:%d" % srv.server_port):
            server.make_server(make(), "127.0.0.1", srv.server_port)
    finally:
        srv.server_close()


def test_https_with_a_self_signed_certificate_made_on_first_start(make, tmp_path):
    import os
    import shutil
    import ssl
    if not shutil.which("openssl"):
        pytest.skip("needs Debian package openssl")
    tls = tmp_path / "tls"
    srv = server.make_server(make(), "127.0.0.1", 0, str(tls))
    assert oct(os.stat(tls / "key.pem").st_mode & 0o777) == "0o600"
    first = (tls / "cert.pem").read_bytes()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        ctx = ssl.create_default_context(cafile=str(tls / "cert.pem"))
        ctx.check_hostname = False
        with urllib.request.urlopen("https://127.0.0.1:%d/setup" % srv.server_port, timeout=5, context=ctx) as r:
            assert r.status == 200 and b"First boot" in r.read()
        with pytest.raises(OSError):                      # plain HTTP on the TLS port gets nothing
            urllib.request.urlopen("http://127.0.0.1:%d/setup" % srv.server_port, timeout=3)
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)
    server.make_server(make(), "127.0.0.1", 0, str(tls)).server_close()
    assert (tls / "cert.pem").read_bytes() == first          # kept, not remade
