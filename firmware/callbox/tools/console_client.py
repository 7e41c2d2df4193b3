"""callbox-console: the field tech's laptop end of the box's serial console.

    callbox-console PORT                                  interactive (Ctrl-] quits)
    callbox-console PORT --script FILE --report OUT       log in, run FILE, write OUT.txt and OUT.json

PORT is a serial device (/dev/ttyUSB0, COM3) or any pyserial URL (socket://host:port,
a pty path, loop://). The password comes from $CALLBOX_CONSOLE_PASSWORD (or the
variable --password-env names), else it is asked for; it is never taken from the
command line and never written to the report.

A script is one console command per line; blank lines and lines starting with '#'
are skipped. Two lines are the tool's own: ``sleep N`` waits N seconds, and a command
ending in ``--for N`` (e.g. ``monitor dtmf span 0 chan 1 --for 10``) collects a
monitor's output for N seconds, then stops it with Enter.

What it copes with: a box still booting (keeps waking the port for --wait seconds,
showing how long it has waited), a wrong baud rate on a real serial port (tries
115200, 9600, 38400, 57600 and 19200 until the box answers readably), line noise
(non-printing bytes are dropped from the report), and a lost connection (reopens the
port, logs in again and retries the command once; the report says so).

Exit status: 0 done, 2 bad arguments or script, 3 login refused, 4 the box did not answer.
"""
import argparse
import datetime
import getpass
import json
import os
import re
import sys
import time

import serial

PROMPT = b"callbox> "
LOGIN = b"login: "
BAUDS = (115200, 9600, 38400, 57600, 19200)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[[0-9;]*[A-Za-z]")


class ConsoleError(Exception):
    def __init__(self, msg, code):
        super().__init__(msg)
        self.code = code


def clean(data):
    """Bytes from the port -> printable text (UTF-8, line noise and escapes dropped)."""
    text = data.decode("utf-8", "replace").replace("\ufffd", "")
    text = text.replace("\r\n", "\n").replace("\r", "")
    text = CONTROL.sub("", text)
    return text


def _is_device(port):
    return "://" not in port and not os.path.realpath(port).startswith("/dev/pts/")


class Console:
    """A logged-in conversation with the box's shell over one port."""

    def __init__(self, port, baud=115200, user="admin", password="", wait_s=120.0, log=None, opener=None):
        self.port_name = port
        self.baud = baud
        self.user = user
        self.password = password
        self.wait_s = wait_s
        self.log = log or (lambda msg: None)
        self.opener = opener or (lambda name, baud: serial.serial_for_url(name, baudrate=baud, timeout=0.2))
        self.port = None
        self.events = []

    # -- the port ---------------------------------------------------------------------
    def _open(self, baud):
        if self.port is not None:
            try:
                self.port.close()
            except (OSError, serial.SerialException):
                pass
        self.port = self.opener(self.port_name, baud)
        self.baud = baud

    def _read_until(self, marks, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.port.read(4096)
            if chunk:
                buf += chunk
                for m in marks:
                    if m in buf:
                        return buf, m
        return buf, None

    def _write(self, data):
        self.port.write(data)
        self.port.flush()

    def connect(self):
        """Open the port, find a baud rate the box answers on, wait for it to boot, log in."""
        start = time.monotonic()
        bauds = [self.baud] + [b for b in BAUDS if b != self.baud] if _is_device(self.port_name) else [self.baud]
        last_note = 0.0
        while True:
            try:
                for baud in bauds:
                    self._open(baud)
                    self._write(b"\r")
                    buf, mark = self._read_until([LOGIN, PROMPT, b"password: "], 1.5)
                    if mark:
                        if baud != bauds[0]:
                            self.event("answered at %d baud" % baud)
                        return self._login(mark)
                    if buf and len(bauds) > 1:
                        self.event("unreadable answer at %d baud, trying the next rate" % baud)
            except (OSError, serial.SerialException) as e:
                if time.monotonic() - start > self.wait_s:
                    raise ConsoleError("cannot open %s: %s" % (self.port_name, e), 4) from None
            waited = time.monotonic() - start
            if waited > self.wait_s:
                raise ConsoleError("the box did not answer on %s within %.0f s" % (self.port_name, self.wait_s), 4)
            if waited - last_note >= 5:
                self.log("waiting for the box on %s (%.0f s)..." % (self.port_name, waited))
                last_note = waited
            time.sleep(1.0)

    def _login(self, mark):
        if mark == PROMPT:
            self.event("already logged in")
            return
        if mark == b"password: ":
            self._write(b"\r")                       # finish a half-typed login
            self._read_until([LOGIN], 3)
        self._write(self.user.encode() + b"\r")
        buf, m = self._read_until([b"password: "], 10)
        if not m:
            raise ConsoleError("no password prompt after the user name (got %r)" % clean(buf)[-80:], 4)
        self._write(self.password.encode() + b"\r")
        buf, m = self._read_until([PROMPT, b"Login incorrect", b"Too many failures"], 15)
        if m != PROMPT:
            raise ConsoleError("login as %s refused: %s" % (self.user, clean(buf).strip().splitlines()[-2:]
                                                            if buf else "no answer"), 3)
        self.event("logged in as %s" % self.user)

    def event(self, text):
        self.events.append({"t": _now(), "event": text})
        self.log(text)

    # -- commands ----------------------------------------------------------------------
    def run(self, command, collect_s=None, timeout=60.0):
        """Run one command; returns its output text. A lost connection is retried once."""
        for attempt in (1, 2):
            try:
                return self._run_once(command, collect_s, timeout)
            except (OSError, serial.SerialException) as e:
                if attempt == 2:
                    raise ConsoleError("connection lost twice running %r: %s" % (command, e), 4) from None
                self.event("connection lost (%s); reconnecting" % e)
                self.connect()

    def _run_once(self, command, collect_s, timeout):
        self.port.reset_input_buffer()
        self._write(command.encode() + b"\r")
        if collect_s:
            buf, _ = self._read_until([], collect_s)
            self._write(b"\r")
            more, m = self._read_until([PROMPT], timeout)
            buf += more
        else:
            buf, m = self._read_until([PROMPT], timeout)
        if m is None:
            raise ConsoleError("no prompt within %.0f s after %r" % (timeout, command), 4)
        text = clean(buf)
        if text.endswith(PROMPT.decode()):
            text = text[:-len(PROMPT)]
        lines = text.split("\n")
        if lines and lines[0].strip() == command.strip():     # the box's echo of the command
            lines = lines[1:]
        return "\n".join(lines).rstrip("\n")

    def close(self):
        if self.port is not None:
            try:
                self._write(b"quit\r")
                self.port.close()
            except (OSError, serial.SerialException):
                pass


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def parse_script(text):
    """Script text -> [(kind, value, collect_s)]; kind is 'cmd' or 'sleep'.

    Raises:
        ConsoleError: naming the line and its problem.
    """
    steps = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > 500:
            raise ConsoleError("script line %d: longer than 500 characters" % n, 2)
        m = re.match(r"^sleep\s+(\d+(\.\d+)?)$", line)
        if m:
            steps.append(("sleep", float(m.group(1)), None))
            continue
        if line.split()[0] == "sleep":
            raise ConsoleError("script line %d: 'sleep' takes seconds, e.g. 'sleep 5'" % n, 2)
        m = re.match(r"^(.*\S)\s+--for\s+(\d+(\.\d+)?)$", line)
        if m:
            steps.append(("cmd", m.group(1), float(m.group(2))))
        elif "--for" in line:
            raise ConsoleError("script line %d: '--for' needs seconds at the end, e.g. '--for 10'" % n, 2)
        else:
            steps.append(("cmd", line, None))
    if not steps:
        raise ConsoleError("the script has no commands", 2)
    return steps


def run_script(con, steps, log):
    results = []
    for i, (kind, value, collect) in enumerate(steps, 1):
        if kind == "sleep":
            log("[%d/%d] sleep %g s" % (i, len(steps), value))
            time.sleep(value)
            continue
        log("[%d/%d] running: %s" % (i, len(steps), value))
        t0, started = time.monotonic(), _now()
        try:
            out, ok = con.run(value, collect), True
        except ConsoleError as e:
            if e.code != 4:
                raise
            out, ok = "ERROR: %s" % e, False
        results.append({"command": value, "started": started, "duration_s": round(time.monotonic() - t0, 2),
                        "ok": ok, "output": out})
        if not ok:
            break
    return results


def write_report(out, meta, results, events):
    base = re.sub(r"\.(txt|json)$", "", out)
    data = dict(meta, commands=results, events=events)
    with open(base + ".json", "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    with open(base + ".txt", "w") as f:
        f.write("CallBox console report\n")
        for k in ("port", "baud", "user", "started", "finished", "result"):
            f.write("%-9s %s\n" % (k + ":", meta.get(k)))
        for e in events:
            f.write("%s  %s\n" % (e["t"], e["event"]))
        for r in results:
            f.write("\n=== %s  (%s, %.1f s)%s\n" % (r["command"], r["started"], r["duration_s"],
                                                    "" if r["ok"] else "  FAILED"))
            f.write(r["output"] + "\n")
    return base + ".txt", base + ".json"


def interactive(con):
    """Pass-through between this terminal and the box until Ctrl-]."""
    import select
    import termios
    import tty
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    sys.stderr.write("Connected to %s at %d baud. Ctrl-] quits.\r\n" % (con.port_name, con.baud))
    try:
        tty.setraw(fd)
        while True:
            r, _, _ = select.select([fd, con.port.fileno()] if hasattr(con.port, "fileno") else [fd], [], [], 0.1)
            if fd in r:
                data = os.read(fd, 1024)
                if b"\x1d" in data:
                    break
                con._write(data)
            chunk = con.port.read(4096) if con.port.in_waiting or not hasattr(con.port, "fileno") else b""
            if chunk:
                os.write(sys.stdout.fileno(), chunk)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        sys.stderr.write("\nDisconnected.\n")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="callbox-console", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("port", help="serial device or pyserial URL")
    ap.add_argument("--baud", type=int, default=115200, help="first baud rate to try (default 115200)")
    ap.add_argument("--user", default="admin", help="console user (an admin or supervisor of the web UI)")
    ap.add_argument("--password-env", default="CALLBOX_CONSOLE_PASSWORD",
                    help="environment variable holding the password (default CALLBOX_CONSOLE_PASSWORD)")
    ap.add_argument("--script", help="file of commands to run")
    ap.add_argument("--report", help="report file name (OUT.txt and OUT.json are written)")
    ap.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a booting box (default 120)")
    a = ap.parse_args(argv)

    def log(msg):
        sys.stderr.write("callbox-console: %s\n" % msg)
        sys.stderr.flush()
    if bool(a.script) != bool(a.report):
        log("--script and --report go together")
        return 2
    steps = None
    if a.script:
        try:
            with open(a.script, encoding="utf-8") as f:
                steps = parse_script(f.read())
        except OSError as e:
            log("cannot read the script: %s" % e)
            return 2
        except ConsoleError as e:
            log(str(e))
            return e.code
    password = os.environ.get(a.password_env)
    if password is None:
        if not sys.stdin.isatty():
            log("no password: set $%s" % a.password_env)
            return 2
        password = getpass.getpass("password for %s: " % a.user)
    con = Console(a.port, a.baud, a.user, password, a.wait, log)
    started = _now()
    try:
        con.connect()
        if steps is None:
            interactive(con)
            return 0
        results = run_script(con, steps, log)
        result = "ok" if all(r["ok"] for r in results) and len(results) == sum(1 for s in steps if s[0] == "cmd") \
            else "incomplete"
    except ConsoleError as e:
        log(str(e))
        if steps is not None and a.report:
            write_report(a.report, {"port": a.port, "baud": con.baud, "user": a.user, "started": started,
                                    "finished": _now(), "result": "failed: %s" % e}, [], con.events)
        return e.code
    finally:
        con.close()
    txt, js = write_report(a.report, {"port": a.port, "baud": con.baud, "user": a.user, "started": started,
                                      "finished": _now(), "result": result}, results, con.events)
    log("report written: %s and %s (%s)" % (txt, js, result))
    return 0 if result == "ok" else 4


if __name__ == "__main__":
    sys.exit(main())
