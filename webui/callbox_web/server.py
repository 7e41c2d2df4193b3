"""Serve the web UI with the standard library's WSGI server, one thread per connection.

The dashboard polls once a second while recordings stream, so the server must
not be single-threaded. Request lines go to the "callbox.web" logger at DEBUG
(quiet by default), errors at WARNING. A client that sends nothing for
SOCKET_TIMEOUT_S is dropped, so idle connections cannot pin threads forever.
"""
import logging
import socket
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger("callbox.web")

SOCKET_TIMEOUT_S = 30


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one daemon thread per connection; TLS when ``tls`` holds an SSLContext.

    The TLS handshake runs in the connection's own thread (with the socket timeout), so a
    slow or silent client never holds up accepting other connections."""

    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def finish_request(self, request, client_address):
        if self.tls is not None:
            request.settimeout(SOCKET_TIMEOUT_S)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ValueError) as e:
                log.debug("%s TLS handshake failed: %s", client_address[0], e)
                request.close()
                return
        super().finish_request(request, client_address)


class ThreadingWSGIServer6(ThreadingWSGIServer):
    address_family = socket.AF_INET6


class QuietHandler(WSGIRequestHandler):
    """Request handler that logs through "callbox.web" instead of printing to stderr."""

    timeout = SOCKET_TIMEOUT_S

    def log_message(self, format, *args):        # noqa: A002 (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format, *args):           # noqa: A002
        log.warning("%s %s", self.address_string(), format % args)

    def address_string(self):
        return self.client_address[0]


def make_server(app, host, port, tls_dir=None):
    """Bind a threading WSGI server for app (not yet serving).

    Args:
        app: the WSGI application (callbox_web.app.make_app(...)).
        host (str): address to listen on ("0.0.0.0", "::", "127.0.0.1").
        port (int): TCP port (0 picks a free one; see server.server_port).

    Returns:
        ThreadingWSGIServer: call serve_forever(), and shutdown() from another thread.

    Raises:
        OSError: "Binding the web UI to <host>:<port>: <cause>".
    """
    cls = ThreadingWSGIServer6 if ":" in host else ThreadingWSGIServer
    try:
        server = cls((host, port), QuietHandler)
    except OSError as e:
        raise OSError(e.errno, "Binding the web UI to %s:%s: %s" % (host, port, e.strerror)) from None
    server.set_app(app)
    if tls_dir:
        import ssl
        cert, key = ensure_certificate(tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        server.tls = ctx
    return server


def ensure_certificate(tls_dir, hostname="callbox"):
    """The box's HTTPS certificate: <tls_dir>/cert.pem and key.pem, made self-signed (RSA 2048,
    10 years) on first use with the openssl command. An admin replaces both files with an
    uploaded certificate. Returns (cert path, key path).

    Raises:
        OSError: the directory cannot be written or openssl is missing or fails.
    """
    import os
    import shutil
    import subprocess
    cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    if not shutil.which("openssl"):
        raise OSError("HTTPS: no certificate in %s and no openssl command to make one" % tls_dir)
    tmp_key, tmp_cert = key + ".tmp", cert + ".tmp"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                        "-subj", "/CN=%s" % hostname, "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % hostname,
                        "-keyout", tmp_key, "-out", tmp_cert], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise OSError("HTTPS: making a self-signed certificate failed: %s" % r.stderr.strip()[-300:])
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, key)
    os.replace(tmp_cert, cert)
    log.warning("HTTPS: made a self-signed certificate in %s", tls_dir)
    return cert, key


def serve(app, host, port, tls_dir=None):
    """Serve app on host:port until interrupted (blocks); HTTPS when tls_dir is given.

    Args, Raises: as make_server.
    """
    server = make_server(app, host, port, tls_dir)
    log.info("web UI listening on %s://%s:%d", "https" if tls_dir else "http", host, server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
