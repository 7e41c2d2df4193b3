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
    """wsgiref's server, one daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True


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


def make_server(app, host, port):
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
    return server


def serve(app, host, port):
    """Serve app on host:port until interrupted (blocks).

    Args, Raises: as make_server.
    """
    server = make_server(app, host, port)
    log.info("web UI listening on %s:%d", host, server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
