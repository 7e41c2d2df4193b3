"""callbox-web: the on-box web interface (Bottle), working through the bus and the store."""
import logging

from callbox.bus.router import BusRouter
from callbox.config.store import Store
from callbox.daemons import common

log = logging.getLogger("callbox.web")


def main():
    p = common.parser("web", __doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--tls-dir", default=None,
                   help="serve HTTPS with <dir>/cert.pem and key.pem, made self-signed on first start (the box: "
                        "/data/tls); default plain HTTP (simulation on localhost)")
    args = p.parse_args()
    common.setup_logging("web", args.log_level)
    from callbox_web.app import make_app
    from callbox_web.server import serve
    store = Store(args.data_dir)
    app = make_app(BusRouter(args.run_dir), store, args.data_dir, secure_cookies=bool(args.tls_dir))
    log.info("web UI on %s://%s:%d/", "https" if args.tls_dir else "http", args.host, args.port)
    serve(app, args.host, args.port, args.tls_dir)


if __name__ == "__main__":
    main()
