"""callbox-consoled: the login-protected diagnostics shell on the console port.

On the box it serves the serial console device (--tty /dev/ttyS0); on a PC it
makes a pseudo-terminal and links it at <run-dir>/console.pty, so
``callbox-console <run-dir>/console.pty`` (or screen, minicom) can connect.
"""
import logging
import os
import termios
import tty

from callbox.bus.router import BusRouter
from callbox.config.store import Store
from callbox.console.shell import Shell
from callbox.daemons import common

log = logging.getLogger("callbox.console")


async def amain(args, stop):
    import asyncio
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

    state = {"shell": None, "buf": b""}

    def new_shell():
        state["shell"] = Shell(router, store, write)
        state["shell"].start()

    def on_read():
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            return
        buf = state["buf"] + data
        while True:
            i = min([p for p in (buf.find(b"\r"), buf.find(b"\n")) if p >= 0], default=-1)
            if i < 0:
                break
            line, buf = buf[:i], buf[i + 1:]
            if buf[:1] == b"\n" and line is not None:
                buf = buf[1:]
            if len(line) > 512:
                write("line too long (max 512 characters)\r\n")
                continue
            text = line.decode("utf-8", "replace")
            if state["shell"] is None:
                new_shell()
                continue
            try:
                if not state["shell"].line(text):
                    new_shell()
            except Exception as e:
                log.exception("console: command failed")
                write("internal error: %s\r\n" % type(e).__name__)
        state["buf"] = buf[-4096:]

    new_shell()
    loop.add_reader(fd, on_read)
    await stop.wait()
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
