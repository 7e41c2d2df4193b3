"""The console shell field techs use on the serial port.

Lines in, text out, 80 columns, readable at 9600 baud. A login (the web UI's
users, admin or supervisor role) comes first; three wrong passwords cost 30 s.
Commands are dispatched by name from a table built from ``cmd_<word>`` methods,
each with a usage line that ``help`` prints and a bad argument echoes back:

    show: usage: show spans|span N|channel span N chan C|calls|agents|queues|recorder|system|log ...

The shell never blocks the box: every command is one bus request (1-3 s
timeout) or a read of a local file, and the monitors (``monitor ...``,
``show log -f``) print events the console daemon hands to ``on_event``/``poll``
until the tech presses Enter or Ctrl-C. ``feed`` takes raw bytes from the port
(echo, editing, completion and history are in ``lineedit``).
"""
import json
import os
import queue
import re
import shutil
import subprocess
import textwrap
import threading
import time

from callbox.auth import check_new_password, check_username, create_first_admin, verify_password
from callbox.console.lineedit import LineEditor
from callbox.errors import BusError

BANNER = "CallBox console. Log in with a web UI admin or supervisor account.\r\n"
FIRST_BOOT = ("First boot: this box has no admin account yet, and none with a default password.\r\n"
              "Create it here (or in the web UI). It is the web UI's admin too.\r\n")
PROMPT = "callbox> "
WIDTH = 80
PLANS = ("cn", "eu", "us")
TONES = ("dial", "ringback", "busy", "congestion")


def _usage(text, complete=None):
    def deco(fn):
        fn.usage = text
        fn.complete = complete or []
        return fn
    return deco


class UsageError(Exception):
    pass


def _num(word, lo, hi):
    if not word.isdigit() or not lo <= int(word) <= hi:
        raise UsageError()
    return int(word)


def _span_chan(args):
    """'span N chan C' -> (N, C)."""
    if len(args) != 4 or args[0] != "span" or args[2] != "chan":
        raise UsageError()
    return _num(args[1], 0, 999), _num(args[3], 1, 31)


def _usage_lines(head, usage):
    """A usage text broken at '|' or ' ' to fit 80 columns, continued under its start."""
    lines, cur = [], head
    for tok in re.split(r"(?<=[| ])", usage):
        if len(cur) + len(tok) > WIDTH - 1 and cur.strip():
            lines.append(cur.rstrip())
            cur = " " * len(head)
        cur += tok
    lines.append(cur.rstrip())
    return "\r\n".join(lines)


def _fit(line):
    return line if len(line) <= WIDTH else line[:WIDTH - 1] + "~"


class System:
    """What the shell asks of the operating system; the image's board layer (and tests)
    replace these. On a PC in simulation, changes are stored, not applied."""

    def __init__(self, store, data_dir=None, log_dir=None):
        self.store = store
        self.data_dir = data_dir
        self.log_dir = log_dir

    def ip_show(self):
        if shutil.which("ip"):
            r = subprocess.run(["ip", "-brief", "address"], capture_output=True, text=True, timeout=3)
            if r.returncode == 0:
                return r.stdout.strip()
        import socket
        return "%s (ip command not available)" % socket.gethostname()

    def ip_set(self, cfg):
        self.store.execute("INSERT OR REPLACE INTO settings(key, value) VALUES('network', ?)", (json.dumps(cfg),))
        return "stored; the network service applies it at the next start (on a PC in simulation: not applied)"

    def ping(self, host):
        if not shutil.which("ping"):
            return "ping: not installed on this system (Debian package iputils-ping)"
        r = subprocess.run(["ping", "-c", "3", "-W", "1", "-i", "0.3", host], capture_output=True, text=True,
                           timeout=8)
        out = (r.stdout or r.stderr).strip().splitlines()
        return "\n".join(out[-2:]) if out else "ping: no output (exit %d)" % r.returncode

    def set_date(self, text):
        return "date: setting the clock needs the box itself (NTP or 'date -s' as root); not done here"

    def firmware(self):
        from importlib import metadata
        try:
            version = metadata.version("callbox")
        except metadata.PackageNotFoundError:
            version = "unknown"
        slot = "-"
        try:
            with open("/proc/cmdline") as f:
                m = re.search(r"rauc\.slot=(\S+)", f.read())
                slot = m.group(1) if m else "- (not an A/B image)"
        except OSError:
            pass
        return {"version": version, "slot": slot}

    def factory_reset(self):
        """Mark the data partition for wiping; the supervisor wipes it at its next start."""
        if not self.data_dir:
            raise RuntimeError("no data directory known")
        path = os.path.join(self.data_dir, ".factory-reset")
        with open(path, "w") as f:
            f.write("%f\n" % time.time())
        return path

    def disk_free_mb(self):
        if not self.data_dir:
            return None
        st = os.statvfs(self.data_dir)
        return st.f_bavail * st.f_frsize / 1e6


class Shell:
    """Args:
        bus: object with request(op, args, timeout).
        store: the config store (users table).
        write (callable): write(str) to the terminal.
        system (System): OS actions (ip, ping, date, reset); a default one is made.
    """

    def __init__(self, bus, store, write, clock=time.monotonic, system=None, log_dir=None):
        self.bus = bus
        self.store = store
        self.write = write
        self.clock = clock
        self.system = system or System(store, log_dir=log_dir)
        self.log_dir = log_dir if log_dir is not None else self.system.log_dir
        self.user = None
        self.role = None
        self.updating = None         # the thread of a firmware update started here
        self.stage = "login"
        self.setup = {}              # first boot: the admin account being made here
        self.pending_user = None
        self.failures = 0
        self.locked_until = 0.0
        self.streaming = None
        self.confirm = None           # (action, deadline) waiting for "... confirm"
        self.commands = {name[4:].replace("_", "-"): getattr(self, name) for name in dir(self)
                         if name.startswith("cmd_")}
        self.editor = LineEditor(write, self.prompt, self.complete)

    # -- input ------------------------------------------------------------------------
    def start(self):
        if self._needs_admin():
            self.stage = "setup_user"
            self.write(BANNER + FIRST_BOOT + "new admin username: ")
            return
        self.write(BANNER + "login: ")

    def _needs_admin(self):
        return not self.store.query("SELECT 1 FROM users WHERE role='admin' LIMIT 1")

    def _setup(self, text):
        """First boot on the console: the admin account, then the network, then the login."""
        st = self.setup
        if self.stage == "setup_user":
            err = check_username(text)
            if err:
                self.write("%s\r\nnew admin username: " % err)
                return
            st["user"] = text
            self.stage, self.editor.echo = "setup_pw", False
            self.write("password (at least 10 characters): ")
        elif self.stage == "setup_pw":
            st["pw"] = text
            self.stage = "setup_confirm"
            self.write("\r\nthe same password again: ")
        elif self.stage == "setup_confirm":
            self.editor.echo = True
            err = check_new_password(st["user"], st.pop("pw", ""), text)
            if err:
                self.stage = "setup_pw"
                self.editor.echo = False
                self.write("\r\n%s\r\npassword (at least 10 characters): " % err)
                return
            made = create_first_admin(self.store.db, st["user"], text)
            if not made:
                self.stage = "login"
                self.write("\r\nAn admin was created meanwhile (in the web UI). Log in with that account.\r\n"
                           "login: ")
                return
            self.write("\r\nAdmin %s created.\r\nnetwork: press Enter to keep DHCP, or type address/prefix "
                       "gateway [dns]\r\n(e.g. 192.168.1.10/24 192.168.1.1 192.168.1.1): " % st["user"])
            self.stage = "setup_net"
        elif self.stage == "setup_net":
            if text:
                out = self.cmd_ip(["set"] + text.split()) if len(text.split()) in (2, 3) else None
                if out is None or not out.startswith("ip: stored"):
                    self.write("%s\r\nnetwork (Enter for DHCP): " % (out or "give address/prefix gateway [dns]"))
                    return
                self.write(out + "\r\n")
            else:
                self.store.execute("INSERT OR REPLACE INTO settings(key, value) VALUES('network', ?)",
                                   (json.dumps({"dhcp": True}),))
                self.write("DHCP kept.\r\n")
            self.write("This box: %s\r\nThe web UI answers on https://<address>/ . Log in now.\r\nlogin: "
                       % self.system.ip_show().replace("\n", "\r\n    "))
            self.stage, self.setup = "login", {}

    def feed(self, data):
        """Raw bytes from the port. Returns False when the session has ended."""
        for ev in self.editor.feed(data):
            if ev[0] == "interrupt":
                if self.streaming:
                    self._stop_stream()
                else:
                    self.write("^C\r\n" + self._prompt_for_stage())
            elif ev[0] == "eof":
                if self.stage == "shell":
                    return self.line("quit")
            elif not self.line(ev[1]):
                return False
        return True

    def _prompt_for_stage(self):
        return {"login": "login: ", "password": "password: ", "setup_user": "new admin username: ",
                "setup_pw": "password: ", "setup_confirm": "the same password again: ",
                "setup_net": "network (Enter for DHCP): "}.get(self.stage, self.prompt())

    def line(self, text):
        """Handle one input line; returns False when the session should end."""
        text = text.strip()
        if self.streaming:
            self._stop_stream()
            return True
        if self.stage.startswith("setup_"):
            self._setup(text[:1024])
            return True
        if self.stage == "login":
            if not text:                  # a tech pressing Enter to wake the port
                self.write("login: ")
                return True
            self.pending_user = text[:64]
            self.stage = "password"
            self.editor.echo = False
            self.write("password: ")
            return True
        if self.stage == "password":
            self.stage = "login"
            self.editor.echo = True
            if self.clock() < self.locked_until:
                self.write("\r\nToo many failures; wait %d s.\r\nlogin: " % (self.locked_until - self.clock()))
                return True
            rows = self.store.query("SELECT pw_hash, role FROM users WHERE username=?", (self.pending_user,))
            if rows and rows[0]["role"] in ("admin", "supervisor") and verify_password(text, rows[0]["pw_hash"]):
                self.user = self.pending_user
                self.role = rows[0]["role"]
                self.stage = "shell"
                self.failures = 0
                self.write("\r\nWelcome, %s. Type 'help'.\r\n%s" % (self.user, self.prompt()))
            else:
                self.failures += 1
                if self.failures >= 3:
                    self.locked_until = self.clock() + 30
                    self.failures = 0
                self.write("\r\nLogin incorrect.\r\nlogin: ")
            return True
        if not text:
            self.write(self.prompt())
            return True
        word, _, rest = text.partition(" ")
        fn = self.commands.get(word)
        out = None
        if fn is None:
            self.write("%s: command not recognized; type 'help'\r\n" % word[:32])
        else:
            try:
                out = fn(rest.split())
            except UsageError:
                self.write(_usage_lines("%s: usage: " % word, fn.usage) + "\r\n")
            except BusError as e:
                self.write(self._wrap("%s: %s" % (word, e)) + "\r\n")
            except (OSError, subprocess.SubprocessError, RuntimeError) as e:
                self.write("%s: %s\r\n" % (word, e))
        if out is False:
            return False
        if out:
            self.write(self._wrap(out) + "\r\n")
        if not self.streaming:
            self.write(self.prompt())
        return True

    @staticmethod
    def _wrap(text):
        return "\r\n".join(_fit(line) for line in str(text).split("\n"))

    def prompt(self):
        return PROMPT if self.stage == "shell" else ""

    def complete(self, text):
        """Completions for the last word of ``text``."""
        if self.stage != "shell":
            return []
        words = text.split(" ")
        if len(words) == 1:
            return [c for c in self.commands if c.startswith(words[0])]
        fn = self.commands.get(words[0])
        if fn is None:
            return []
        pos = len(words) - 2
        options = fn.complete[pos] if pos < len(fn.complete) else []
        if callable(options):
            options = options(words[1:-1])
        return [o for o in options if o.startswith(words[-1])]

    # -- streaming (monitors) ---------------------------------------------------------------
    def _start_stream(self, kind, **kw):
        self.streaming = dict(kind=kind, **kw)
        return "%s; press Enter or Ctrl-C to stop" % kw.pop("title")

    def _stop_stream(self):
        kind = (self.streaming or {}).get("kind")
        self.streaming = None
        self.write(("(detached; the update goes on: see 'firmware show')" if kind == "update" else "(stopped)")
                   + "\r\n" + self.prompt())

    def on_event(self, topic, data):
        """A bus event from the console daemon's subscriptions; printed if a monitor wants it."""
        s = self.streaming
        if not s or not isinstance(data, dict):
            return
        stamp = time.strftime("%H:%M:%S")
        if s["kind"] == "dtmf" and topic == "chan.dtmf" and data.get("ep") == s["ep"]:
            self.write("%s %s digit %s\r\n" % (stamp, s["ep"], data.get("digit")))
        elif s["kind"] == "signalling" and topic == "sig.trace" and data.get("span") == s["span"]:
            arrow = {"tx": "-->", "rx": "<--"}.get(data.get("dir"), " * ")   # " * ": a channel's own event
            self.write(_fit("%s %s %s" % (stamp, arrow, data.get("text", ""))) + "\r\n")
        elif s["kind"] == "alarms" and topic == "span.alarm":
            self.write("%s span %s %s %s\r\n" % (stamp, data.get("span"), str(data.get("alarm", "")).upper(),
                                                 data.get("state")))

    def poll(self):
        """Called about twice a second by the daemon: follows a log file for 'show log -f' and
        prints a firmware update's progress."""
        s = self.streaming
        if s and s["kind"] == "update":
            while True:
                try:
                    item = s["lines"].get_nowait()
                except queue.Empty:
                    return
                if isinstance(item, tuple):
                    # the outcome is never cut: wrapped onto as many 80-column lines as it needs
                    self.write("\r\n".join(textwrap.wrap(item[1], 79, subsequent_indent="  ")) + "\r\n")
                    self.streaming = None
                    self.write(self.prompt())
                    return
                self.write(_fit(item) + "\r\n")
        if not s or s["kind"] != "log":
            return
        try:
            with open(s["path"], "rb") as f:
                f.seek(0, os.SEEK_END)
                end = f.tell()
                if end < s["pos"]:            # rotated or truncated
                    s["pos"] = 0
                f.seek(s["pos"])
                chunk = f.read(min(end - s["pos"], 16384))
                s["pos"] += len(chunk)
        except OSError as e:
            self.write("log: %s\r\n" % e)
            self.streaming = None
            self.write(self.prompt())
            return
        for line in chunk.decode("utf-8", "replace").splitlines():
            self.write(_fit(line) + "\r\n")

    # -- commands ---------------------------------------------------------------------------
    @_usage("help [command]", [lambda w: []])
    def cmd_help(self, args):
        if args:
            fn = self.commands.get(args[0])
            if fn is None:
                raise UsageError()
            return _usage_lines("%s: " % args[0], fn.usage).replace("\r\n", "\n")
        return "\n".join(_usage_lines("  %-13s " % n, self.commands[n].usage).replace("\r\n", "\n")
                         for n in sorted(self.commands))

    @_usage("quit")
    def cmd_quit(self, args):
        self.write("Bye.\r\n")
        return False

    @_usage("loopback span <N> off|local|line|payload", [["span"], [], ["off", "local", "line", "payload"]])
    def cmd_loopback(self, args):
        if len(args) != 3 or args[0] != "span" or not args[1].isdigit() or \
                args[2] not in ("off", "local", "line", "payload"):
            raise UsageError()
        r = self.bus.request("span.loopback", {"span": int(args[1]), "mode": args[2]}, 3.0)
        return "span %d: loopback %s" % (r["span"], r["mode"])

    @_usage("bert span <N> start [11|15|20|23] [inverted]|stop|show|insert|reset",
            [["span"], [], ["start", "stop", "show", "insert", "reset"], ["11", "15", "20", "23", "inverted"]])
    def cmd_bert(self, args):
        if len(args) < 3 or args[0] != "span" or not args[1].isdigit() or \
                args[2] not in ("start", "stop", "show", "insert", "reset"):
            raise UsageError()
        req = {"span": int(args[1]), "action": args[2]}
        extra = args[3:]
        if extra and args[2] != "start":
            raise UsageError()
        for word in extra:
            if word in ("11", "15", "20", "23"):
                req["pattern"] = int(word)
            elif word == "inverted":
                req["inverted"] = True
            else:
                raise UsageError()
        st = self.bus.request("span.bert", req, 3.0)
        if args[2] == "start":
            return "span %d: BERT started, 2^%d-1%s" % (req["span"], req.get("pattern", 15),
                                                         " inverted" if req.get("inverted") else "")
        if not st.get("running"):
            return "span %d: no BERT running" % req["span"]
        ber = "%.2e" % st["ber"] if st.get("ber") is not None else "-"
        return ("span %d: BERT %s, %s\n  bits %d  errors %d  BER %s  sync losses %d"
                % (req["span"], st["pattern"], "in sync" if st["synced"] else "NO SYNC", st["bits"],
                   st["errors"], ber, st["sync_losses"]))

    @_usage("impair span <N> los on|off | ais on|off | ber <rate> | slip | fas <n> | crc <n> | rai on|off | clear"
            "  (simulated spans; rai on any span)",
            [["span"], [], ["los", "ais", "ber", "slip", "fas", "crc", "rai", "clear"], ["on", "off"]])
    def cmd_impair(self, args):
        if len(args) < 3 or args[0] != "span" or not args[1].isdigit():
            raise UsageError()
        span, what, rest = int(args[1]), args[2], args[3:]
        if what in ("los", "ais") and rest in (["on"], ["off"]):
            req = {what: rest[0] == "on"}
        elif what == "ber" and len(rest) == 1:
            try:
                rate = float(rest[0])
            except ValueError:
                raise UsageError() from None
            if not 0 <= rate <= 0.5:
                raise UsageError()
            req = {"ber": rate}
        elif what == "slip" and not rest:
            req = {"slip": 1}
        elif what in ("fas", "crc") and len(rest) == 1 and rest[0].isdigit() and 1 <= int(rest[0]) <= 100000:
            req = {what + "_errors": int(rest[0])}
        elif what == "rai" and rest in (["on"], ["off"]):
            req = {"rai": rest[0] == "on"}
        elif what == "clear" and not rest:
            req = {"los": False, "ais": False, "ber": 0.0, "rai": False}
        else:
            raise UsageError()
        text = ", ".join("%s=%s" % (k, v) for k, v in sorted(req.items()))
        sends = what in ("slip", "fas", "crc", "rai")
        # a slip, counted FAS/CRC errors and RAI are made by the sender: the far end sees them;
        # the rest hit the box's receiver, as a fault on a real line would
        req["side"] = "tx" if sends else "rx"
        req["span"] = span
        self.bus.request("span.impair", req, 3.0)
        return "span %d: %s (%s)" % (span, text, "on what the box sends: the far end counts it" if sends else
                                     "on what the box receives")

    @_usage("tone span <N> chan <C> <cn|eu|us> <dial|ringback|busy|congestion> | tone span <N> chan <C> off",
            [["span"], [], ["chan"], [], list(PLANS) + ["off"], list(TONES)])
    def cmd_tone(self, args):
        if len(args) == 5 and args[4] == "off":
            span, chan = _span_chan(args[:4])
            self.bus.request("chan.stop", {"ep": "s%d.%d" % (span, chan)}, 3.0)
            return "s%d.%d: tone off" % (span, chan)
        if len(args) != 6 or args[4] not in PLANS or args[5] not in TONES:
            raise UsageError()
        span, chan = _span_chan(args[:4])
        self.bus.request("chan.tone", {"ep": "s%d.%d" % (span, chan), "plan": args[4], "tone": args[5]}, 3.0)
        return "s%d.%d: sending %s %s tone ('tone span %d chan %d off' stops it)" % (span, chan, args[4], args[5],
                                                                                   span, chan)

    @_usage("monitor dtmf span <N> chan <C> | monitor signalling span <N> | monitor alarms",
            [["dtmf", "signalling", "alarms"], ["span"], [], ["chan"]])
    def cmd_monitor(self, args):
        if args[:1] == ["dtmf"]:
            span, chan = _span_chan(args[1:])
            ep = "s%d.%d" % (span, chan)
            self.bus.request("chan.dtmf", {"ep": ep, "on": True}, 3.0)
            return self._start_stream("dtmf", ep=ep, title="DTMF on %s" % ep)
        if args[:1] == ["signalling"] and len(args) == 3 and args[1] == "span":
            span = _num(args[2], 0, 999)
            return self._start_stream("signalling", span=span, title="Signalling on span %d (--> sent, <-- received)"
                                      % span)
        if args == ["alarms"]:
            return self._start_stream("alarms", title="Span alarms as they rise and clear")
        raise UsageError()

    @_usage("hangup <call-id>", [lambda w: []])
    def cmd_hangup(self, args):
        if len(args) != 1:
            raise UsageError()
        self.bus.request("call.hangup", {"call_id": args[0]}, 3.0)
        return "call %s: clearing" % args[0]

    @_usage("show spans|span N|channel span N chan C|calls|call ID|agents|seats|queues|recorder|system|"
            "log [daemon] [-n N] [-f]", [["spans", "span", "channel", "calls", "call", "agents", "seats", "queues",
                                         "recorder", "system", "log"]])
    def cmd_show(self, args):
        if not args:
            raise UsageError()
        what, rest = args[0], args[1:]
        if what == "span" and len(rest) == 1:
            return self._show_span(_num(rest[0], 0, 999))
        if what == "channel":
            return self._show_channel(*_span_chan(rest))
        if what == "log":
            return self._show_log(rest)
        if what == "call" and len(rest) == 1:
            return self._show_call(rest[0])
        if what in ("spans", "calls", "agents", "queues", "system", "recorder", "seats") and not rest:
            return getattr(self, "_show_" + what)()
        raise UsageError()

    def _spans(self):
        return self.bus.request("span.status", None, 3.0)

    def _show_spans(self):
        lines = []
        for s in self._spans():
            alarms = [k.upper() for k, v in s["alarms"].items() if v]
            lines.append("%s %d is %s%s" % (s["kind"], s["span"], "up" if s["up"] else "down",
                                             ", " + ", ".join(alarms) if alarms else ""))
            perf = s.get("perf")
            if perf:
                cur = perf["current"]
                lines.append("  This interval: %d ES, %d SES, %d UAS, %d Slip Secs, %d PCV"
                             % (cur["es"], cur["ses"], cur["uas"], cur["css"], cur["pcv"]))
        return "\n".join(lines) or "no spans configured"

    def _show_span(self, sid):
        spans = {s["span"]: s for s in self._spans()}
        s = spans.get(sid)
        if s is None:
            return "span %d: no such span (spans: %s)" % (sid, ", ".join(map(str, sorted(spans))) or "none")
        alarms = [k.upper() for k, v in s["alarms"].items() if v]
        lines = ["%s %d is %s." % (s["kind"], sid, "up" if s["up"] else "down"),
                 "  " + ("Receiver has " + ", ".join(alarms) + "." if alarms else "No alarms detected."),
                 "  Failures (2.5 s on, 10 s off): %s." % (", ".join(k.upper() for k, v in sorted(
                     (s.get("failures") or {}).items()) if v) or "none"),
                 "  Framing is %s, Line Code is %s, Clock Source is %s." % (
                     s["framing"].upper(), s["line_code"].upper(), str(s.get("clock", "line")).capitalize()),
                 "  Loopback %s%s." % (s.get("loopback", "off"), "; BERT running" if s.get("bert") else "")]
        if s.get("sa_rx"):
            lines.append("  Sa4-Sa8 received %s." % s["sa_rx"])
        try:
            sig = {x.get("span"): x for x in self.bus.request("sig.status", None, 2.0)}.get(sid)
        except BusError:
            sig = None
        if sig and str(sig.get("side", "")).startswith("r2-"):
            lines.append("  Signalling MFC/R2 %s, %s, %d call(s), %d busy channel(s)%s." % (
                sig["side"][3:].upper(), "in service" if sig.get("dchan") == "up" else "OUT OF SERVICE",
                sig.get("calls", 0), sig.get("busy_channels", 0),
                ", blocked %s" % ",".join(map(str, sig["blocked"])) if sig.get("blocked") else ""))
        elif sig:
            lines.append("  Signalling %s %s side, D-channel %s (%s), %d call(s)." % (
                "PRI", sig.get("side", "?"), sig.get("dchan", "?"), sig.get("l2_state", "?"), sig.get("calls", 0)))
        if "cas_lomf" in s["alarms"]:
            try:
                cas = self.bus.request("span.cas", {"span": sid}, 2.0)
            except BusError:
                cas = None
            if cas:
                def nib(ts):
                    v = cas["rx"].get(str(ts))
                    return "-" if v is None else "%X" % v
                lines.append("  CAS multiframe %s%s. Received ABCD (hex) per timeslot:" % (
                    "aligned" if cas["aligned"] else "NOT ALIGNED",
                    ", far end reports multiframe alarm" if cas.get("remote_mf_alarm") else ""))
                lines.append("    1-15 %s   17-31 %s" % ("".join(nib(t) for t in range(1, 16)),
                                                      "".join(nib(t) for t in range(17, 32))))
        counters = sorted((k[3:], v) for k, v in s["counters"].items() if k.startswith("rx:"))
        for i in range(0, len(counters), 3):
            lines.append("  " + "  ".join("%-16s %8d" % kv for kv in counters[i:i + 3]))
        perf = s.get("perf")
        if perf:
            cols = ("es", "ses", "bes", "uas", "css", "fls", "lcv", "pcv")
            lines.append("  %-14s" % "" + "".join("%7s" % c.upper() for c in cols))
            lines.append("  %-14s" % "This interval" + "".join("%7d" % perf["current"][c] for c in cols))
            for k, iv in enumerate(perf.get("intervals_data", [])[:4]):
                lines.append("  %-14s" % ("Interval %d" % (k + 1)) + "".join("%7d" % iv[c] for c in cols))
            lines.append("  %-14s" % ("24 h (%d int)" % perf["intervals"]) +
                         "".join("%7d" % perf["last_24h"][c] for c in cols))
        return "\n".join(lines)

    def _show_channel(self, span, chan):
        ep = "s%d.%d" % (span, chan)
        lvl = self.bus.request("chan.level", {"ep": ep}, 3.0)
        calls = [c for c in self.bus.request("call.list", None, 3.0) if c.get("span") == span and c.get("chan") == chan]
        rx = lvl.get("rx_dbm0")
        lines = ["%s: receive level %s, transmit level %s" % (
            ep, "%.1f dBm0" % rx if rx is not None else "silent", "%.1f dBm0" % lvl["tx_dbm0"]
            if lvl.get("tx_dbm0") is not None else "silent"),
                 "  routed: %s" % (lvl.get("route") or "idle")]
        for c in calls:
            lines.append("  call %s %s -> %s, %s, agent %s" % (c["call_id"], c.get("ani") or "-", c.get("dnis") or "-",
                                                              c["state"], c.get("agent") or "-"))
        return "\n".join(lines)

    def _show_call(self, call_id):
        """A call's signalling ladder: live from call control, or as stored when it ended."""
        if not re.match(r"^[A-Za-z0-9._:@+-]{1,128}$", call_id):
            raise UsageError("show call ID: %r is not a call id (see show calls)" % call_id)
        ladder = None
        try:
            ladder = self.bus.request("call.ladder", {"call_id": call_id}, 3.0)
        except BusError:
            pass
        if ladder is None:
            got = [e for e in self.store.call_events(call_id) if e["event"] == "signalling"]
            ladder = (got[-1]["detail"] or {}).get("ladder") if got else None
        if not ladder:
            return "call %s: no signalling recorded (unknown call, internal call, or still setting up)" % call_id
        lines = ["Signalling of call %s (--> sent, <-- received, * state/event):" % call_id]
        for t, kind, text in ladder:
            if kind == "q931":
                kind = "tx" if " tx " in text[:40] else "rx" if " rx " in text[:40] else "ev"
            stamp = time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % int((t % 1) * 1000)
            lines.append(_fit("%s %s %s" % (stamp, {"tx": "-->", "rx": "<--"}.get(kind, " * "), text)))
        return "\n".join(lines)

    def _show_calls(self):
        calls = self.bus.request("call.list", None, 3.0)
        lines = ["%-28s %-5s %-12s %-9s %-6s %s" % ("CALL", "CHAN", "ANI", "STATE", "AGENT", "DIGITS")]
        for c in calls:
            where = "%d/%d" % (c["span"], c["chan"]) if c.get("span") is not None else "seat%d" % c["chan"]
            lines.append("%-28s %-5s %-12s %-9s %-6s %s" % (c["call_id"][:28], where,
                                                           (c["ani"] or "")[:12], c["state"][:9], c["agent"] or "-",
                                                           c["digits"][:12]))
        return "\n".join(lines) if calls else "no calls in progress"

    def _show_seats(self):
        lines = ["%-5s %-8s %-4s %s" % ("SEAT", "PHONE", "HOOK", "BACKEND")]
        for st in self.bus.request("seat.status", None, 3.0):
            lines.append("%-5d %-8s %-4s %s" % (st["seat"], "up" if st["plugged"] else "DOWN", st["hook"],
                                               st["backend"]))
        try:
            sip = self.bus.request("seat.sip", None, 3.0)
        except BusError:
            sip = None
        if sip:
            c = sip["counters"]
            lines.append("SIP: udp/%s tcp/%s tls/%s realm %s; rx %d tx %d, malformed %d" % (
                sip["udp"], sip["tcp"] or "-", sip["tls"] or "-", sip["realm"], c.get("rx", 0), c.get("tx", 0),
                c.get("bad", 0)))
            lines.append("  auth failures %d, blocked now: %s" % (c.get("auth_failures", 0),
                                                                  ", ".join(sip["blocked"]) or "none"))
        return "\n".join(lines) if len(lines) > 1 else "no seats configured"

    def _show_agents(self):
        lines = ["%-8s %-16s %-5s %-10s %-14s %s" % ("LOGIN", "NAME", "SEAT", "STATE", "REASON", "CALLS")]
        for a in self.bus.request("acd.agents", None, 3.0):
            lines.append("%-8s %-16s %-5s %-10s %-14s %d" % (a["login"], a["name"][:16], a["seat"] or "-", a["state"],
                                                            (a.get("reason") or "")[:14], a["calls"]))
        return "\n".join(lines)

    def _show_queues(self):
        lines = ["%-14s %7s %8s %5s %8s %9s %6s" % ("QUEUE", "WAITING", "LONGEST", "READY", "ANSWERED", "ABANDONED",
                                                   "SL")]
        for q in self.bus.request("acd.queues", None, 3.0):
            sl = q.get("sl_pct")
            lines.append("%-14s %7d %7.0fs %5d %8d %9d %6s" % (q["name"][:14], q["waiting"], q["longest_wait_s"],
                                                             q["agents_ready"], q["answered"], q["abandoned"],
                                                             "-" if sl is None else "%.0f%%" % sl))
        return "\n".join(lines)

    def _show_recorder(self):
        st = self.bus.request("rec.status", None, 3.0)
        free = st.get("free_mb")
        lines = ["recorder: %d open recording(s), %s free on the recordings disk" % (
            len(st.get("open", [])), "%.0f MB" % free if free is not None else "unknown")]
        for k, v in sorted((st.get("counters") or {}).items()):
            lines.append("  %-28s %d" % (k, v))
        return "\n".join(lines)

    def _show_system(self):
        lines = []
        fw = self.system.firmware()
        lines.append("firmware %s, slot %s, up since %s" % (fw["version"], fw["slot"], time.strftime("%Y-%m-%d %H:%M")))
        for d in self.bus.request("sup.status", None, 3.0):
            lines.append("%-10s %-8s pid %-7s restarts %d  %s" % (d["name"], d["state"], d["pid"] or "-",
                                                                 d["restarts"], d["last_exit"] or ""))
        return "\n".join(lines)

    def _show_log(self, args):
        if not self.log_dir:
            return "log: this box logs to the system journal, not to files (no --log-dir)"
        follow = "-f" in args
        args = [a for a in args if a != "-f"]
        n = 20
        if "-n" in args:
            i = args.index("-n")
            if i + 1 >= len(args):
                raise UsageError()
            n = _num(args[i + 1], 1, 500)
            del args[i:i + 2]
        if len(args) > 1 or (args and not re.match(r"^[a-z]{1,16}$", args[0])):
            raise UsageError()
        name = args[0] if args else "callctl"
        path = os.path.join(self.log_dir, name + ".log")
        if not os.path.isfile(path):
            have = sorted(f[:-4] for f in os.listdir(self.log_dir) if f.endswith(".log")) \
                if os.path.isdir(self.log_dir) else []
            return "log: no log for %r (have: %s)" % (name, ", ".join(have) or "none")
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(0, end - 200 * n))
            tail = f.read().decode("utf-8", "replace").splitlines()[-n:]
        out = "\n".join(tail)
        if follow:
            self.write(self._wrap(out) + "\r\n")
            return self._start_stream("log", path=path, pos=end, title="Following %s" % path)
        return out

    @_usage("ip show | ip set <address/prefix> <gateway> [dns]", [["show", "set"]])
    def cmd_ip(self, args):
        if args == ["show"]:
            return self.system.ip_show()
        if len(args) in (3, 4) and args[0] == "set":
            m = re.match(r"^(\d{1,3}(?:\.\d{1,3}){3})/(\d{1,2})$", args[1])
            ips = [args[1].split("/")[0]] + args[2:]
            if not m or int(m.group(2)) > 32 or not all(
                    re.match(r"^\d{1,3}(\.\d{1,3}){3}$", a) and all(int(x) <= 255 for x in a.split(".")) for a in ips):
                return "ip: %s is not address/prefix gateway [dns] in dotted form (e.g. 192.168.1.10/24 " \
                       "192.168.1.1)" % " ".join(args[1:])
            return "ip: " + self.system.ip_set({"address": args[1], "gateway": args[2],
                                                "dns": args[3] if len(args) == 4 else None})
        raise UsageError()

    @_usage("ping <host>", [lambda w: []])
    def cmd_ping(self, args):
        if len(args) != 1 or not re.match(r"^[A-Za-z0-9.:-]{1,253}$", args[0]):
            raise UsageError()
        return self.system.ping(args[0])

    @_usage("date | date set 'YYYY-MM-DD hh:mm:ss'", [["set"]])
    def cmd_date(self, args):
        if not args:
            return time.strftime("%Y-%m-%d %H:%M:%S %Z")
        if args[0] == "set" and len(args) == 3:
            try:
                time.strptime(" ".join(args[1:]).strip("'\""), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise UsageError() from None
            return self.system.set_date(" ".join(args[1:]).strip("'\""))
        raise UsageError()

    @_usage("firmware show | firmware update <bundle file>", [["show", "update"]])
    def cmd_firmware(self, args):
        from callbox import update
        if args == ["show"]:
            fw = self.system.firmware()
            data_dir = getattr(self.system, "data_dir", None)
            return "firmware %s, running from slot %s\n%s" % (
                fw["version"], fw["slot"], update.slot_summary(data_dir) if data_dir else "slots: no data directory")
        if len(args) != 2 or args[0] != "update":
            raise UsageError()
        if getattr(self, "role", None) != "admin":
            return "firmware update: only an admin may install firmware (you are %s)" % getattr(self, "role", "?")
        path = args[1]
        if not os.path.isfile(path):
            return "firmware update: %s: no such file (a USB stick is mounted under /media)" % path
        if self.updating is not None and self.updating.is_alive():
            return "firmware update: an update is already running"
        data_dir = getattr(self.system, "data_dir", None)
        if not data_dir:
            return "firmware update: no data directory to check the bundle in"
        compatible, keyring = update.box_identity(data_dir=data_dir)
        lines = queue.Queue()

        def run():
            try:
                res = update.apply(path, keyring, compatible, os.path.join(data_dir, "updates"),
                                   update.installer_for(data_dir, keyring),
                                   lambda p, t: lines.put("%3d %% %s" % (p, t)))
                lines.put(("done", "firmware update: %s %s" % (res["version"], res["result"])))
            except update.UpdateError as e:
                lines.put(("done", "firmware update: %s; nothing was installed" % e))
            except Exception as e:          # the tech must see it; the box goes on
                lines.put(("done", "firmware update failed: %s" % e))
        self.updating = threading.Thread(target=run, name="console-update", daemon=True)
        self.updating.start()
        return self._start_stream("update", lines=lines, title="firmware update from %s" % os.path.basename(path))

    @_usage("selftest")
    def cmd_selftest(self, args):
        if args:
            raise UsageError()
        results = []

        def check(name, fn):
            try:
                ok, detail = fn()
            except Exception as e:            # a check that cannot run fails, with why
                ok, detail = False, "%s: %s" % (type(e).__name__, e)
            results.append((name, ok, detail))

        def daemons():
            st = self.bus.request("sup.status", None, 3.0)
            down = [d["name"] for d in st if d["state"] != "running"]
            return not down, "all %d running" % len(st) if not down else "not running: " + ", ".join(down)

        def media():
            c = self.bus.request("media.counters", None, 3.0)
            over = c.get("media:overruns", 0)
            return over == 0, "%d tick overruns" % over

        def spans():
            bad = ["%d (%s)" % (s["span"], ",".join(k.upper() for k, v in s["alarms"].items() if v))
                   for s in self._spans() if any(s["alarms"].values())]
            return not bad, "no alarms" if not bad else "alarms on span " + ", ".join(bad)

        def database():
            r = self.store.query("PRAGMA quick_check")
            first = list(r[0].values())[0] if r else "no answer"
            return first == "ok", "quick_check: %s" % first

        def disk():
            st = self.bus.request("rec.status", None, 3.0)
            free = st.get("free_mb")
            return free is not None and free > 200, "%s MB free for recordings" % (
                "%.0f" % free if free is not None else "?")

        def libraries():
            import array
            from callbox import _line, dsp  # noqa: F401  (both C libraries must load)
            x = array.array("h", [1000, -1000, 0, 32000])
            back = dsp.alaw_to_linear(bytes(dsp.linear_to_alaw(x)))
            ok = all(abs(a - b) <= max(16, abs(a) // 16) for a, b in zip(x, back))
            return ok, "line and DSP loaded, G.711 round trip %s" % ("ok" if ok else "WRONG")
        def watchdog():
            h = self.bus.request("sup.health", None, 3.0)
            if not h:
                return True, "no board here (no pin map): nothing to feed"
            return bool(h.get("healthy")), "fed %d times; %s" % (h.get("watchdog_feeds", 0), h.get("why", "?"))
        for name, fn in (("daemons", daemons), ("media engine", media), ("spans", spans), ("database", database),
                         ("recording disk", disk), ("C libraries", libraries), ("watchdog", watchdog)):
            check(name, fn)
        failed = [r for r in results if not r[1]]
        lines = ["%-16s %-4s %s" % (n, "PASS" if ok else "FAIL", d) for n, ok, d in results]
        lines.append("selftest: %s (%d of %d checks passed)" % ("PASS" if not failed else "FAIL",
                                                              len(results) - len(failed), len(results)))
        return "\n".join(lines)

    @_usage("factory-reset [confirm]", [["confirm"]])
    def cmd_factory_reset(self, args):
        if not args:
            self.confirm = ("factory-reset", self.clock() + 30)
            return ("factory-reset erases the configuration, users, call records, recordings and\n"
                    "voicemail, and keeps the running firmware. Type 'factory-reset confirm' within 30 s.")
        if args != ["confirm"]:
            raise UsageError()
        if not self.confirm or self.confirm[0] != "factory-reset" or self.clock() > self.confirm[1]:
            return "factory-reset: type 'factory-reset' first, then 'factory-reset confirm' within 30 s"
        self.confirm = None
        path = self.system.factory_reset()
        self.bus.request("sup.reboot", {"reason": "factory reset by %s" % self.user}, 3.0)
        return "factory-reset: marked (%s); the box restarts and starts fresh" % path

    @_usage("reboot [confirm]", [["confirm"]])
    def cmd_reboot(self, args):
        if args != ["confirm"]:
            if args:
                raise UsageError()
            return "reboot drops every call in progress. Type 'reboot confirm' to go ahead."
        self.bus.request("sup.reboot", {"reason": "console reboot by %s" % self.user}, 3.0)
        return "rebooting"
