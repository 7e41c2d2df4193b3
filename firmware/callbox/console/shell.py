"""The console shell field techs use on the serial port.

Protocol-free: lines in, text out, 80 columns. A login (the web UI's users,
admin or supervisor role) comes first; three wrong passwords cost a delay.
Commands are dispatched by name from a table built from ``cmd_<word>`` methods,
each with a usage line that HELP prints and a bad argument echoes back:

    show: usage: show spans|calls|agents|queues|system

Issue #8 adds the full command set (loopbacks, BERT, monitors, ...); this is
the skeleton with the same shape.
"""
import time

from callbox.auth import verify_password
from callbox.errors import BusError

BANNER = "CallBox console. Log in with a web UI admin or supervisor account.\r\n"


def _usage(text):
    def deco(fn):
        fn.usage = text
        return fn
    return deco


class UsageError(Exception):
    pass


class Shell:
    """Args:
        bus: object with request(op, args, timeout).
        store: the config store (users table).
        write (callable): write(str) to the terminal.
    """

    def __init__(self, bus, store, write, clock=time.monotonic):
        self.bus = bus
        self.store = store
        self.write = write
        self.clock = clock
        self.user = None
        self.stage = "login"
        self.pending_user = None
        self.failures = 0
        self.locked_until = 0.0
        self.commands = {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("cmd_")}

    def start(self):
        self.write(BANNER + "login: ")

    def line(self, text):
        """Handle one input line; returns False when the session should end."""
        text = text.strip()
        if self.stage == "login":
            if not text:                  # a tech pressing Enter to wake the port
                self.write("login: ")
                return True
            self.pending_user = text
            self.stage = "password"
            self.write("password: ")
            return True
        if self.stage == "password":
            self.stage = "login"
            if self.clock() < self.locked_until:
                self.write("\r\nToo many failures; wait %d s.\r\nlogin: " % (self.locked_until - self.clock()))
                return True
            rows = self.store.query("SELECT pw_hash, role FROM users WHERE username=?", (self.pending_user,))
            if rows and rows[0]["role"] in ("admin", "supervisor") and verify_password(text, rows[0]["pw_hash"]):
                self.user = self.pending_user
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
        if fn is None:
            self.write("%s: command not recognized; type 'help'\r\n" % word)
        else:
            try:
                out = fn(rest.split())
            except UsageError:
                self.write("%s: usage: %s\r\n" % (word, fn.usage))
                out = None
            except BusError as e:
                self.write("%s: %s\r\n" % (word, e))
                out = None
            if out is False:
                return False
            if out:
                self.write(out.replace("\n", "\r\n") + "\r\n")
        self.write(self.prompt())
        return True

    def prompt(self):
        return "callbox> "

    @_usage("help [command]")
    def cmd_help(self, args):
        if args:
            fn = self.commands.get(args[0])
            if fn is None:
                raise UsageError()
            return "%s: %s" % (args[0], fn.usage)
        return "\n".join("  %-8s %s" % (n, self.commands[n].usage) for n in sorted(self.commands))

    @_usage("quit")
    def cmd_quit(self, args):
        self.write("Bye.\r\n")
        return False

    @_usage("loopback span <N> off|local|line|payload")
    def cmd_loopback(self, args):
        if len(args) != 3 or args[0] != "span" or not args[1].isdigit() or \
                args[2] not in ("off", "local", "line", "payload"):
            raise UsageError()
        r = self.bus.request("span.loopback", {"span": int(args[1]), "mode": args[2]})
        return "span %d: loopback %s" % (r["span"], r["mode"])

    @_usage("bert span <N> start [11|15|20|23] [inverted]|stop|show|insert|reset")
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
        st = self.bus.request("span.bert", req)
        if args[2] == "start":
            return "span %d: BERT started, 2^%d-1%s" % (req["span"], req.get("pattern", 15),
                                                         " inverted" if req.get("inverted") else "")
        if not st.get("running"):
            return "span %d: no BERT running" % req["span"]
        ber = "%.2e" % st["ber"] if st.get("ber") is not None else "-"
        return ("span %d: BERT %s, %s\n  bits %d  errors %d  BER %s  sync losses %d"
                % (req["span"], st["pattern"], "in sync" if st["synced"] else "NO SYNC", st["bits"],
                   st["errors"], ber, st["sync_losses"]))

    @_usage("show spans|calls|agents|queues|system")
    def cmd_show(self, args):
        if len(args) != 1 or args[0] not in ("spans", "calls", "agents", "queues", "system"):
            raise UsageError()
        return getattr(self, "_show_" + args[0])()

    def _show_spans(self):
        lines = []
        for s in self.bus.request("span.status"):
            alarms = [k.upper() for k, v in s["alarms"].items() if v]
            lines.append("%s %d is %s" % (s["kind"], s["span"], "up" if s["up"] else "down"))
            lines.append("  %s" % ("Receiver has " + ", ".join(alarms) if alarms else "No alarms detected."))
            lines.append("  Framing is %s, Line Code is %s" % (s["framing"].upper(), s["line_code"].upper()))
            perf = s.get("perf")
            if perf:
                cur, day = perf["current"], perf["last_24h"]
                lines.append("  This interval: %d ES, %d SES, %d UAS, %d Slip Secs, %d PCV"
                             % (cur["es"], cur["ses"], cur["uas"], cur["css"], cur["pcv"]))
                lines.append("  Last 24 h (%d intervals): %d ES, %d SES, %d UAS"
                             % (perf["intervals"], day["es"], day["ses"], day["uas"]))
            if s.get("loopback", "off") != "off" or s.get("bert"):
                lines.append("  Loopback %s%s" % (s.get("loopback", "off"), ", BERT running" if s.get("bert") else ""))
            lines.append("  " + "  ".join("%s %d" % (k, v) for k, v in sorted(s["counters"].items())
                                          if k.startswith("rx:"))[:76])
        return "\n".join(lines) or "no spans configured"

    def _show_calls(self):
        calls = self.bus.request("call.list")
        lines = ["%-28s %-4s %-12s %-8s %-6s %s" % ("CALL", "CHAN", "ANI", "STATE", "AGENT", "DIGITS")]
        for c in calls:
            lines.append("%-28s %-4s %-12s %-8s %-6s %s" % (c["call_id"][:28], "%d/%d" % (c["span"], c["chan"]),
                                                          c["ani"][:12], c["state"][:8], c["agent"] or "-", c["digits"]))
        return "\n".join(lines) if calls else "no calls in progress"

    def _show_agents(self):
        lines = ["%-8s %-16s %-5s %-10s %s" % ("LOGIN", "NAME", "SEAT", "STATE", "CALLS")]
        for a in self.bus.request("acd.agents"):
            lines.append("%-8s %-16s %-5s %-10s %d" % (a["login"], a["name"][:16], a["seat"] or "-", a["state"], a["calls"]))
        return "\n".join(lines)

    def _show_queues(self):
        lines = ["%-16s %7s %8s %5s %8s %9s" % ("QUEUE", "WAITING", "LONGEST", "READY", "ANSWERED", "ABANDONED")]
        for q in self.bus.request("acd.queues"):
            lines.append("%-16s %7d %7.0fs %5d %8d %9d" % (q["name"][:16], q["waiting"], q["longest_wait_s"],
                                                         q["agents_ready"], q["answered"], q["abandoned"]))
        return "\n".join(lines)

    def _show_system(self):
        lines = []
        for d in self.bus.request("sup.status"):
            lines.append("%-10s %-8s pid %-7s restarts %d  %s" % (d["name"], d["state"], d["pid"] or "-",
                                                                 d["restarts"], d["last_exit"] or ""))
        return "\n".join(lines)
