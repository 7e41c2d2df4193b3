"""Console shell: login required, usage errors echo the usage, bus errors are explained."""
import pytest

from callbox.auth import hash_password, verify_password
from callbox.config.store import Store
from callbox.console.shell import Shell
from callbox.errors import BusError


class FakeBus:
    def __init__(self):
        self.down = False
        self.requests = []

    def request(self, op, args=None, timeout=None):
        if self.down:
            raise BusError("%s: the callctl daemon is not reachable" % op)
        self.requests.append((op, args))
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
        }[op]


@pytest.fixture
def shell(tmp_path):
    st = Store(str(tmp_path))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('tech', ?, 'supervisor')",
               (hash_password("0123456789abc", iterations=1000),))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('view', ?, 'viewer')",
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


def test_commands_need_login(shell):
    shell.line("show spans")
    shell.line("x")
    assert "Login incorrect" in "".join(shell.out)
    assert shell.user is None


def test_login_and_show_spans_in_controller_layout(shell):
    assert "Welcome, tech" in login(shell)
    shell.line("show spans")
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
    assert "show: usage: show spans|calls|agents|queues|system" in "".join(shell.out)
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
