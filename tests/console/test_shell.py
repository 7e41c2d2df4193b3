"""Console shell: login required, usage errors echo the usage, bus errors are explained."""
import json
import os
import time

import pytest

from callbox.auth import hash_password, verify_password
from callbox.config.store import Store
from callbox.console.shell import Shell
from callbox.errors import BusError


class FakeBus:
    def __init__(self):
        self.down = False
        self.requests = []
        self.extra = {}

    def request(self, op, args=None, timeout=None):
        if self.down:
            raise BusError("%s: the callctl daemon is not reachable" % op)
        self.requests.append((op, args))
        if op in self.extra:
            return self.extra[op]
        if op == "span.loopback":
            return {"span": args["span"], "mode": args["mode"]}
        if op == "span.bert":
            if args["action"] == "show":
                return {"span": 0, "running": True, "synced": True, "bits": 1228800, "errors": 3,
                        "ber": 3 / 1228800, "sync_losses": 0, "pattern": "2^15-1"}
            return {"span": 0, "running": False}
        return {
            "span.status": [{"span": 0, "kind": "E1", "up": False, "framing": "crc4", "line_code": "hdb3",
                             "alarms": {"los": True, "ais": False, "lof": False, "rai": False},
                             "counters": {"rx:fas_errors": 7}}],
            "call.list": [],
            "acd.agents": [{"login": "1001", "name": "Agent 1", "seat": 1, "state": "ready", "calls": 3}],
            "acd.queues": [{"name": "support", "waiting": 2, "longest_wait_s": 12.4, "agents_ready": 1,
                            "answered": 5, "abandoned": 1}],
            "sup.status": [],
        }.get(op, {})


@pytest.fixture
def shell(tmp_path):
    st = Store(str(tmp_path))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('tech', ?, 'supervisor')",
               (hash_password("0123456789abc", iterations=1000),))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('view', ?, 'viewer')",
               (hash_password("0123456789abc", iterations=1000),))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('owner', ?, 'admin')",
               (hash_password("0123456789abc", iterations=1000),))
    out = []
    now = [0.0]
    sh = Shell(FakeBus(), st, out.append, clock=lambda: now[0])
    sh.out, sh.now = out, now
    sh.start()
    yield sh
    st.close()


def login(sh, user="tech", pw="0123456789abc"):
    sh.line(user)
    sh.line(pw)
    return "".join(sh.out)


def test_help_fits_80_columns(shell):
    login(shell)
    shell.out.clear()
    shell.line("help")
    text = "".join(shell.out)
    assert "monitor" in text and "selftest" in text and "factory-reset" in text
    assert all(len(x) <= 80 for x in text.split("\r\n"))


def test_commands_need_login(shell):
    shell.line("show spans")
    shell.line("x")
    assert "Login incorrect" in "".join(shell.out)
    assert shell.user is None


def test_login_and_show_spans_in_controller_layout(shell):
    assert "Welcome, tech" in login(shell)
    shell.line("show span 0")
    text = "".join(shell.out)
    assert "E1 0 is down" in text and "Receiver has LOS" in text and "Framing is CRC4, Line Code is HDB3" in text
    assert all(len(line) <= 80 for line in text.split("\r\n"))


def test_viewer_role_cannot_use_console(shell):
    assert "Login incorrect" in login(shell, "view")


def test_three_failures_lock_login_for_a_while(shell):
    for _ in range(3):
        login(shell, pw="wrong-password")
    shell.out.clear()
    assert "Too many failures" in login(shell)
    shell.now[0] += 31
    assert "Welcome" in login(shell)


def test_usage_and_unknown_command_and_bus_down(shell):
    login(shell)
    shell.out.clear()
    shell.line("show nonsense")
    assert "show: usage: show spans|span N|channel span N chan C|calls|" in "".join(shell.out)
    assert all(len(x) <= 80 for x in "".join(shell.out).split("\r\n"))
    shell.line("frobnicate")
    assert 'frobnicate: command not recognized' in "".join(shell.out)
    shell.bus.down = True
    shell.line("show agents")
    assert "not reachable" in "".join(shell.out)
    shell.bus.down = False
    shell.line("show queues")
    assert "support" in "".join(shell.out)
    assert shell.line("quit") is False


def test_password_hash_is_salted_and_verifies():
    a, b = hash_password("0123456789abc", 1000), hash_password("0123456789abc", 1000)
    assert a != b and verify_password("0123456789abc", a) and not verify_password("0123456789abd", a)
    assert not verify_password("x", "garbage")
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")


def test_enter_on_the_login_prompt_just_asks_again(shell):
    shell.out.clear()
    shell.line("")
    shell.line("")
    assert "".join(shell.out) == "login: login: " and shell.failures == 0


def test_loopback_and_bert_commands(shell):
    login(shell)
    shell.out.clear()
    shell.line("loopback span 0 line")
    shell.line("bert span 0 start 20 inverted")
    shell.line("bert span 0 show")
    text = "".join(shell.out)
    assert "span 0: loopback line" in text and "BERT started, 2^20-1 inverted" in text
    assert "bits 1228800  errors 3  BER 2.44e-06" in text
    assert ("span.bert", {"span": 0, "action": "start", "pattern": 20, "inverted": True}) in shell.bus.requests
    shell.out.clear()
    for bad in ("loopback span 0 remote", "loopback 0 line", "bert span x show", "bert span 0 show 15",
                "bert span 0 start 9"):
        shell.line(bad)
    usage = "".join(shell.out)
    assert usage.count("loopback: usage: loopback span <N> off|local|line|payload") == 2
    assert usage.count("bert: usage: bert span <N> start") == 3


class FakeSystem:
    def __init__(self):
        self.net = None
        self.reset = 0

    def ip_show(self):
        return "eth0 UP 192.0.2.5/24"

    def ip_set(self, cfg):
        self.net = cfg
        return "stored"

    def ping(self, host):
        return "3 packets transmitted, 3 received"

    def set_date(self, text):
        return "set " + text

    def firmware(self):
        return {"version": "1.2.3", "slot": "A"}

    def factory_reset(self):
        self.reset += 1
        return "/data/.factory-reset"


def test_monitor_dtmf_streams_digits_until_enter(shell):
    login(shell)
    shell.out.clear()
    shell.line("monitor dtmf span 0 chan 5")
    assert ("chan.dtmf", {"ep": "s0.5", "on": True}) in shell.bus.requests
    shell.on_event("chan.dtmf", {"ep": "s0.5", "digit": "7"})
    shell.on_event("chan.dtmf", {"ep": "s0.6", "digit": "9"})      # another channel: not shown
    shell.on_event("chan.dtmf", {"ep": "s0.5", "digit": "#"})
    text = "".join(shell.out)
    assert "s0.5 digit 7" in text and "s0.5 digit #" in text and "digit 9" not in text
    assert "callbox> " not in text.split("DTMF on s0.5")[1]         # no prompt while streaming
    shell.line("")
    assert shell.streaming is None and "".join(shell.out).endswith("(stopped)\r\ncallbox> ")
    shell.on_event("chan.dtmf", {"ep": "s0.5", "digit": "1"})
    assert "digit 1" not in "".join(shell.out)


def test_monitor_signalling_and_ctrl_c(shell):
    login(shell)
    shell.line("monitor signalling span 0")
    shell.on_event("sig.trace", {"span": 0, "dir": "rx", "text": "Q.931 SETUP cref 1 chan 3"})
    shell.on_event("sig.trace", {"span": 1, "dir": "rx", "text": "other span"})
    assert "<-- Q.931 SETUP cref 1 chan 3" in "".join(shell.out) and "other span" not in "".join(shell.out)
    shell.feed(b"\x03")
    assert shell.streaming is None


def test_show_log_tail_and_follow(shell, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "callctl.log").write_text("".join("line %d\n" % i for i in range(100)))
    shell.log_dir = str(logs)
    login(shell)
    shell.out.clear()
    shell.line("show log callctl -n 3")
    text = "".join(shell.out)
    assert "line 97\r\nline 98\r\nline 99" in text and "line 96" not in text
    shell.line("show log nosuch")
    assert "no log for 'nosuch' (have: callctl)" in "".join(shell.out)
    shell.out.clear()
    shell.line("show log -f")
    with open(logs / "callctl.log", "a") as f:
        f.write("fresh line\n")
    shell.poll()
    assert "fresh line" in "".join(shell.out)
    shell.line("")
    assert shell.streaming is None


def test_system_commands_and_confirmations(shell):
    shell.system = FakeSystem()
    login(shell)
    shell.out.clear()
    shell.line("ip show")
    shell.line("ip set 192.0.2.9/24 192.0.2.1 192.0.2.53")
    shell.line("ip set 300.1.1.1/24 192.0.2.1")
    shell.line("firmware show")
    text = "".join(shell.out)
    assert "eth0 UP" in text and shell.system.net == {"address": "192.0.2.9/24", "gateway": "192.0.2.1",
                                                      "dns": "192.0.2.53"}
    assert "300.1.1.1/24 192.0.2.1 is not address/prefix" in text and "firmware 1.2.3, running from slot A" in text
    shell.line("factory-reset confirm")
    assert shell.system.reset == 0 and "type 'factory-reset' first" in "".join(shell.out)
    shell.line("factory-reset")
    shell.now[0] += 31
    shell.line("factory-reset confirm")
    assert shell.system.reset == 0
    shell.line("factory-reset")
    shell.line("factory-reset confirm")
    assert shell.system.reset == 1 and ("sup.reboot", {"reason": "factory reset by tech"}) in shell.bus.requests
    shell.line("reboot")
    assert not any(op == "sup.reboot" and "console" in a["reason"] for op, a in shell.bus.requests)
    shell.line("reboot confirm")
    assert ("sup.reboot", {"reason": "console reboot by tech"}) in shell.bus.requests


def test_selftest_reports_each_check(shell):
    shell.bus.extra.update({"sup.status": [{"name": "media", "state": "running", "pid": 1, "restarts": 0,
                                            "last_exit": None}],
                            "media.counters": {"media:overruns": 0}, "rec.status": {"free_mb": 5000.0}})
    login(shell)
    shell.out.clear()
    shell.line("selftest")
    text = "".join(shell.out)
    assert "daemons          PASS" in text and "database         PASS" in text
    assert "spans            FAIL alarms on span 0 (LOS)" in text
    assert "selftest: FAIL (6 of 7 checks passed)" in text
    assert "watchdog         PASS no board here" in text
    shell.bus.extra["media.counters"] = {"media:overruns": 3}    # the engine's own counter name
    shell.out.clear()
    shell.line("selftest")
    assert "FAIL 3 tick overruns" in "".join(shell.out)
    shell.bus.extra["sup.health"] = {"healthy": False, "why": "the media tick is stuck at 42", "watchdog_feeds": 9}
    shell.out.clear()
    shell.line("selftest")
    assert "watchdog         FAIL fed 9 times; the media tick is stuck at 42" in "".join(shell.out)


def test_impair_tone_hangup_and_channel(shell):
    shell.bus.extra["chan.level"] = {"ep": "s0.3", "rx_dbm0": -12.3, "tx_dbm0": None, "route": "tone None"}
    login(shell)
    shell.out.clear()
    for cmd in ("impair span 0 ber 1e-3", "impair span 0 los on", "impair span 0 clear", "impair span 0 ber 2",
                "tone span 0 chan 3 cn busy", "tone span 0 chan 3 off", "tone span 0 chan 3 fr busy",
                "hangup c-42", "show channel span 0 chan 3"):
        shell.line(cmd)
    reqs = shell.bus.requests
    assert ("span.impair", {"span": 0, "ber": 0.001, "side": "rx"}) in reqs
    assert ("span.impair", {"span": 0, "los": True, "side": "rx"}) in reqs
    assert ("chan.tone", {"ep": "s0.3", "plan": "cn", "tone": "busy"}) in reqs and ("chan.stop", {"ep": "s0.3"}) in reqs
    assert ("call.hangup", {"call_id": "c-42"}) in reqs
    text = "".join(shell.out)
    assert text.count("usage:") == 2                       # ber 2 and plan fr
    assert "s0.3: receive level -12.3 dBm0, transmit level silent" in text
    shell.out.clear()
    for cmd in ("impair span 0 fas 5", "impair span 0 crc 12", "impair span 0 rai on", "impair span 0 fas 0",
                "impair span 0 crc x"):
        shell.line(cmd)
    assert ("span.impair", {"span": 0, "fas_errors": 5, "side": "tx"}) in reqs
    assert ("span.impair", {"span": 0, "crc_errors": 12, "side": "tx"}) in reqs
    assert ("span.impair", {"span": 0, "rai": True, "side": "tx"}) in reqs
    assert "".join(shell.out).count("usage:") == 2 and "the far end counts it" in "".join(shell.out)


def test_tab_completion_history_and_editing(shell):
    login(shell)
    shell.out.clear()
    shell.feed(b"sh\t")
    assert shell.editor.buf == "show "
    shell.feed(b"sp\t")                      # spans / span: common prefix "span"
    assert shell.editor.buf == "show span"
    shell.feed(b"s\r")
    assert "E1 0 is down" in "".join(shell.out)
    shell.feed(b"show agx\x7fents\r")        # a backspace
    assert "Agent 1" in "".join(shell.out)
    shell.out.clear()
    shell.feed(b"\x1b[A")                    # up: the last command comes back
    assert shell.editor.buf == "show agents"
    shell.feed(b"\x1b[A")
    assert shell.editor.buf == "show spans"
    shell.feed(b"\x15")                      # Ctrl-U
    assert shell.editor.buf == ""


def test_garbage_overlong_lines_and_passwords_are_not_echoed_or_run(shell):
    shell.feed(b"tech\r")
    shell.out.clear()
    shell.feed(b"0123456789abc\r")
    assert "0123456789abc" not in "".join(shell.out)          # the password is not echoed
    assert "0123456789abc" not in shell.editor.history
    shell.out.clear()
    shell.feed(bytes(range(0, 32)).replace(b"\r", b"").replace(b"\n", b"").replace(b"\x03", b"")
               .replace(b"\x04", b"").replace(b"\x1b", b"") + b"\xff\xfe\x00")
    assert shell.editor.dropped > 20 and shell.editor.buf == ""
    shell.feed(b"x" * 600 + b"\r")
    text = "".join(shell.out)
    assert "\a" in text and "command not recognized" in text    # cut at 512 and refused as a command
    shell.feed("显示\r".encode())
    assert "显示: command not recognized" in "".join(shell.out)


def test_show_seats_lists_phones_and_the_sip_stack_and_calls_show_internal_ones(shell):
    login(shell)
    shell.bus.extra["seat.status"] = [
        {"seat": 1, "plugged": True, "hook": "off", "backend": "SipSeatPort(url=sip://1003, registered=True)"},
        {"seat": 2, "plugged": False, "hook": "on", "backend": "SipSeatPort(url=sip://1004, registered=False)"}]
    shell.bus.extra["seat.sip"] = {"udp": 5060, "tcp": 5060, "tls": None, "realm": "callbox", "blocked": ["10.9.9.9"],
                                   "counters": {"rx": 12, "tx": 11, "bad": 1, "auth_failures": 5}}
    shell.bus.extra["call.list"] = [{"call_id": "20261122-0001-seat1", "span": None, "chan": 1, "ani": "1003",
                                     "state": "ivr", "agent": None, "digits": "9"}]
    shell.out.clear()
    shell.line("show seats")
    text = "".join(shell.out)
    assert "1     up       off  SipSeatPort(url=sip://1003" in text and "2     DOWN" in text
    assert "udp/5060 tcp/5060 tls/-" in text and "auth failures 5" in text and "blocked now: 10.9.9.9" in text
    shell.out.clear()
    shell.line("show calls")
    assert "seat1" in "".join(shell.out) and "Traceback" not in "".join(shell.out)


def test_firmware_update_from_the_console_shows_progress_and_refuses_bad_bundles(tmp_path):
    import json
    import shutil

    from boxutil import make_bundle_module
    from callbox.console.shell import System
    if any(shutil.which(t) is None for t in ("rauc", "mksquashfs", "mkfs.ext4", "openssl")):
        pytest.skip("needs Debian packages rauc, squashfs-tools, e2fsprogs, openssl")
    mb = make_bundle_module()
    keys = str(tmp_path / "keys")
    good = mb.make("qemu-x86_64", str(tmp_path / "b"), keys, "4.0.0", say=lambda m: None)
    wrong = mb.make("rpi4", str(tmp_path / "w"), keys, "4.0.0", say=lambda m: None)
    data = tmp_path / "data"
    data.mkdir()
    (data / "update.json").write_text(json.dumps({"compatible": "callbox-qemu-x86_64",
                                                   "keyring": os.path.join(keys, "dev.cert.pem")}))
    st = Store(str(data))
    for user, role in (("tech", "supervisor"), ("boss", "admin")):
        st.execute("INSERT INTO users(username, pw_hash, role) VALUES(?, ?, ?)",
                   (user, hash_password("0123456789abc", iterations=1000), role))
    out = []

    def run(cmd):
        out.clear()
        sh.line(cmd)
        end = time.monotonic() + 60
        while sh.streaming and time.monotonic() < end:
            time.sleep(0.05)
            sh.poll()
        return "".join(out)

    sh = Shell(FakeBus(), st, out.append, system=System(st, data_dir=str(data)))
    sh.out = out
    sh.start()
    login(sh, user="tech")
    assert "only an admin" in run("firmware update %s" % good)
    sh = Shell(FakeBus(), st, out.append, system=System(st, data_dir=str(data)))
    sh.out = out
    sh.start()
    login(sh, user="boss")
    text = run("firmware update %s" % wrong)
    assert "is for 'callbox-rpi4'" in text and "nothing was installed" in text
    assert "no such file" in run("firmware update /nonexistent.raucb")
    text = run("firmware update %s" % good)
    assert "%" in text and "checking the signature" in text and "4.0.0 installed in slot B" in text
    assert all(len(x) <= 80 for x in text.split("\r\n"))
    assert "next boot: slot B with 4.0.0" in run("firmware show")
    st.close()


def test_show_call_prints_the_ladder_live_or_stored(shell):
    login(shell)
    t0 = time.mktime((2026, 11, 22, 10, 15, 0, 0, 0, -1))
    shell.bus.extra["call.ladder"] = [[t0 + 0.25, "q931", "{NULL} rx SETUP chan=1 called=10086 -> CALL_PRESENT"],
                                      [t0 + 0.5, "q931", "{CALL_RECEIVED} tx CONNECT"],
                                      [t0 + 0.75, "ev", "ts1 seized " + "x" * 100]]
    shell.out.clear()
    shell.line("show call c-1")
    text = "".join(shell.out)
    assert "10:15:00.250 <-- {NULL} rx SETUP chan=1 called=10086" in text
    assert "10:15:00.500 --> {CALL_RECEIVED} tx CONNECT" in text and "10:15:00.750  *  ts1 seized" in text
    assert all(len(x) <= 80 for x in text.split("\r\n"))
    # an ended call: call control no longer has it, the stored ladder is read
    shell.bus.extra["call.ladder"] = None
    shell.store.add_call_event("c-2", "signalling", {"ladder": [[t0, "rx", "ts3 ABCD 0011"]]})
    shell.out.clear()
    shell.line("show call c-2")
    assert "10:15:00.000 <-- ts3 ABCD 0011" in "".join(shell.out)
    shell.out.clear()
    shell.line("show call c-3")
    assert "no signalling recorded" in "".join(shell.out)
    shell.out.clear()
    shell.line("show call a;b")
    assert "usage: show" in "".join(shell.out)



def test_first_boot_on_the_console_creates_the_admin_and_sets_the_network(tmp_path):
    st = Store(str(tmp_path))
    out = []
    sh = Shell(FakeBus(), st, out.append, clock=lambda: 0.0)
    sh.start()
    text = "".join(out)
    assert "First boot" in text and "none with a default password" in text and text.endswith("new admin username: ")
    for line in ("bad name!", "root", "short", "short", "0123456789abc", "0123456789abX",
                 "0123456789abc", "0123456789abc", "10.0.0.5/33 10.0.0.1", "10.0.0.5/24 10.0.0.1"):
        sh.line(line)
    text = "".join(out)
    assert "username: 'bad name!' must be 1-32 letters" in text
    assert "must be at least 10 characters (got 5)" in text and "the confirmation does not match" in text
    assert "Admin root created." in text and "is not address/prefix gateway" in text and "ip: stored" in text
    assert "0123456789abc" not in text, "passwords are never echoed"
    rows = st.query("SELECT username, role, pw_hash FROM users")
    assert [(r["username"], r["role"]) for r in rows] == [("root", "admin")]
    assert verify_password("0123456789abc", rows[0]["pw_hash"])
    assert json.loads(st.query("SELECT value FROM settings WHERE key='network'")[0]["value"])["gateway"] == "10.0.0.1"
    out.clear()
    sh.line("root")
    sh.line("0123456789abc")
    assert "Welcome, root." in "".join(out)
    # a second console (or the web UI) that started at first boot cannot make a second admin
    other = Shell(FakeBus(), Store(str(tmp_path)), [].append)
    other.stage, other.setup = "setup_confirm", {"user": "late", "pw": "abcdefghijkl"}
    other.line("abcdefghijkl")
    assert [r["username"] for r in st.query("SELECT username FROM users")] == ["root"]
    st.close()
