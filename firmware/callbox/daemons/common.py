"""What every daemon shares: arguments, logging, the asyncio main with clean stop."""
import argparse
import asyncio
import logging
import os
import signal
import sys


def parser(name, doc):
    p = argparse.ArgumentParser(prog="callbox-" + name, description=doc)
    p.add_argument("--data-dir", default=os.environ.get("CALLBOX_DATA_DIR", "/data"),
                   help="persistent data directory (default /data; $CALLBOX_DATA_DIR)")
    p.add_argument("--run-dir", default=os.environ.get("CALLBOX_RUN_DIR", "/run/callbox"),
                   help="runtime directory for bus sockets (default /run/callbox; $CALLBOX_RUN_DIR)")
    if name != "supervisor":        # the supervisor declares its own --log-dir
        p.add_argument("--log-dir", default=os.environ.get("CALLBOX_LOG_DIR"),
                       help="where the supervisor writes each daemon's log (<name>.log); $CALLBOX_LOG_DIR")
    p.add_argument("--log-level", default=os.environ.get("CALLBOX_LOG_LEVEL", "INFO"),
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def setup_logging(name, level):
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level),
                        format="%(asctime)s " + name + "[%(process)d] %(levelname)s %(name)s: %(message)s")


def run(name, main_coro_factory, args):
    """Run an asyncio daemon until SIGTERM/SIGINT; main_coro_factory(args, stop_event) -> coroutine."""
    setup_logging(name, args.log_level)
    os.makedirs(args.run_dir, exist_ok=True)

    async def _main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main_coro_factory(args, stop)

    try:
        asyncio.run(_main())
    except Exception:
        logging.getLogger("callbox." + name).exception("%s: fatal error", name)
        sys.exit(1)
