"""callbox-consoled: the login-protected diagnostics shell on the console port.

On the box it serves the serial console device (--tty /dev/ttyS0); on a PC it
makes a pseudo-terminal and links it at <run-dir>/console.pty, so
``callbox-console <run-dir>/console.pty`` (or screen, minicom) can connect.
"""
import asyncio
import logging
import os
import termios
import tty

from callbox.bus import socket_path
from callbox.bus.client import AsyncBusClient
from callbox.bus.router import BusRouter
from callbox.config.store import Store
from callbox.console.shell import Shell, System
from callbox.daemons import common

log = logging.getLogger("callbox.console")


async def amain(args, stop):
    loop = asyncio.get_running_loop()
    store = Store(args.data_dir)
    router = BusRouter(args.run_dir)
    if args.tty:
        fd = os.open(args.tty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        link = args.tty
    else:
        fd, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        link = os.path.join(args.run_dir, "console.pty")
        tmp = link + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, link)
        os.set_blocking(fd, False)
    log.info("console on %s", link)

    def write(text):
        data = text.encode("utf-8", "replace")
        while data:
            try:
                n = os.write(fd, data)
                data = data[n:]
            except BlockingIOError:
                import time
                time.sleep(0.01)
            except OSError:
                return

    state = {"shell": None}
    system = System(store, data_dir=args.data_dir, log_dir=args.log_dir)

    def new_shell():
        state["shell"] = Shell(router, store, write, system=system, log_dir=args.log_dir)
        state["shell"].start()

    def on_read():
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        try:
            if not state["shell"].feed(data):
                new_shell()
        except Exception as e:
            log.exception("console: command failed")
            write("internal error: %s\r\n%s" % (type(e).__name__, state["shell"].prompt()))

    def on_event(topic, data):
        try:
            state["shell"].on_event(topic, data)
        except Exception:
            log.exception("console: monitor output failed")

    async def poll():
        while not stop.is_set():
            await asyncio.sleep(0.5)
            try:
                state["shell"].poll()
            except Exception:
                log.exception("console: log follow failed")

    subs = [AsyncBusClient(socket_path(args.run_dir, "media"), "console", on_event, topics=["chan.dtmf", "span.alarm"]),
            AsyncBusClient(socket_path(args.run_dir, "callctl"), "console", on_event, topics=["sig.trace"])]
    new_shell()
    loop.add_reader(fd, on_read)
    for c in subs:
        c.start()
    poller = asyncio.ensure_future(poll())
    await stop.wait()
    poller.cancel()
    for c in subs:
        await c.close()
    loop.remove_reader(fd)
    router.close()
    store.close()


def main():
    p = common.parser("console", __doc__)
    p.add_argument("--tty", default=None, help="serial device to serve (default: a pty at <run-dir>/console.pty)")
    args = p.parse_args()
    common.run("console", amain, args)


if __name__ == "__main__":
    main()
