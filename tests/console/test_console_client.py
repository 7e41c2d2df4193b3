"""The laptop tool against the real shell over a pty pair (no daemons): login, script, report."""
import json
import os
import threading

import pytest

from callbox.auth import hash_password
from callbox.config.store import Store
from callbox.console.shell import Shell
from callbox.tools.console_client import ConsoleError, main, parse_script


class Bus:
    def request(self, op, args=None, timeout=None):
        if op == "acd.agents":
            return [{"login": "1001", "name": "Agent 1", "seat": 1, "state": "ready", "calls": 3}]
        if op == "chan.dtmf":
            return {}
        raise __import__("callbox.errors", fromlist=["BusError"]).BusError("%s: not in this test" % op)


@pytest.fixture
def box(tmp_path):
    """A shell served on a pty; yields the pty's path and the shell."""
    st = Store(str(tmp_path / "data"))
    st.execute("INSERT INTO users(username, pw_hash, role) VALUES('tech', ?, 'admin')",
               (hash_password("0123456789abc", iterations=1000),))
    master, slave = os.openpty()
    import tty
    tty.setraw(slave)
    path = os.ttyname(slave)
    state = {"stop": False}

    def write(text):
        os.write(master, text.encode())
    shell = Shell(Bus(), st, write)

    def serve():
        import select
        shell.start()
        while not state["stop"]:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    return
                if not shell.feed(data):
                    shell.__init__(Bus(), st, write)
                    shell.start()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield path, shell
    state["stop"] = True
    t.join(2)
    os.close(master)
    os.close(slave)
    st.close()


def test_script_runs_and_report_is_written(box, tmp_path, monkeypatch, capsys):
    path, shell = box
    script = tmp_path / "s.txt"
    script.write_text("# a tech's checks\nshow agents\n\nmonitor dtmf span 0 chan 5 --for 1\nfrobnicate\n")
    monkeypatch.setenv("CALLBOX_CONSOLE_PASSWORD", "0123456789abc")

    def digits_while_monitoring():
        import time
        for _ in range(100):
            if shell.streaming:
                shell.on_event("chan.dtmf", {"ep": "s0.5", "digit": "7"})
                return
            time.sleep(0.02)
    threading.Thread(target=digits_while_monitoring, daemon=True).start()
    rc = main([path, "--user", "tech", "--script", str(script), "--report", str(tmp_path / "out"), "--wait", "5"])
    assert rc == 0
    rep = json.loads((tmp_path / "out.json").read_text())
    assert rep["result"] == "ok" and [c["command"] for c in rep["commands"]] == [
        "show agents", "monitor dtmf span 0 chan 5", "frobnicate"]
    assert "Agent 1" in rep["commands"][0]["output"]
    assert "s0.5 digit 7" in rep["commands"][1]["output"]
    assert "command not recognized" in rep["commands"][2]["output"]
    assert "0123456789abc" not in (tmp_path / "out.txt").read_text()
    assert "=== show agents" in (tmp_path / "out.txt").read_text()
    assert "[3/3] running: frobnicate" in capsys.readouterr().err


def test_wrong_password_is_exit_3_with_a_report(box, tmp_path, monkeypatch):
    path, _ = box
    script = tmp_path / "s.txt"
    script.write_text("show agents\n")
    monkeypatch.setenv("CALLBOX_CONSOLE_PASSWORD", "wrong-password")
    rc = main([path, "--user", "tech", "--script", str(script), "--report", str(tmp_path / "r"), "--wait", "5"])
    assert rc == 3
    assert "login as tech refused" in json.loads((tmp_path / "r.json").read_text())["result"]


def test_a_box_that_never_answers_is_exit_4(tmp_path, monkeypatch):
    master, slave = os.openpty()
    try:
        script = tmp_path / "s.txt"
        script.write_text("show agents\n")
        monkeypatch.setenv("CALLBOX_CONSOLE_PASSWORD", "x")
        rc = main([os.ttyname(slave), "--script", str(script), "--report", str(tmp_path / "r"), "--wait", "2"])
        assert rc == 4
    finally:
        os.close(master)
        os.close(slave)


def test_script_errors_name_the_line():
    with pytest.raises(ConsoleError, match="line 2: 'sleep' takes seconds"):
        parse_script("show spans\nsleep soon\n")
    with pytest.raises(ConsoleError, match="line 1: '--for' needs seconds"):
        parse_script("monitor alarms --for ever\n")
    with pytest.raises(ConsoleError, match="no commands"):
        parse_script("# nothing\n\n")
    assert parse_script("sleep 2\nmonitor alarms --for 3\n") == [("sleep", 2.0, None), ("cmd", "monitor alarms", 3.0)]
