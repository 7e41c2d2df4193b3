"""The walking skeleton's proof: one call crosses the whole box, in simulation.

Starts the real daemons under the supervisor (media, call control, recorder,
web, console, and the simulated far end), places one PRI call from the far-end
exchange, presses a DTMF digit as real tones, and follows it through the IVR,
the queue, a simulated agent, the recording and the CDR. Synchronisation is by
bus events with bounded timeouts, never by sleeping.
"""
import array
import json
import os
import re
import signal
import subprocess
import sys
import time
import wave

import pytest

from boxutil import free_port, goertzel_power, stop_box, wait_until
from callbox.auth import hash_password
from callbox.bus import socket_path
from callbox.bus.client import BusClient
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store

pytestmark = pytest.mark.sim
TALK_S = 2.0


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    base = tmp_path_factory.mktemp("box")
    data, run, logs = str(base / "data"), str(base / "run"), str(base / "log")
    with Store(data) as st:
        seed_simulation(st, spans=1, seats=2)
        st.execute("INSERT INTO users(username, pw_hash, role) VALUES(?, ?, 'admin')",
                   ("admin", hash_password("correct horse battery", iterations=1000)))
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "callbox.daemons.supervisor", "--sim", "--data-dir", data,
                             "--run-dir", run, "--log-dir", logs, "--web-port", str(port), "--rate", "0",
                             "--talk-s", str(TALK_S), "--talk-dist", "fixed"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    info = {"data": data, "run": run, "logs": logs, "port": port, "proc": proc}
    try:
        yield info
    finally:
        stop_box(proc, logs)


def test_one_call_crosses_the_whole_box(box):
    run = box["run"]
    callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
    farend = BusClient(socket_path(run, "farend"), connect_timeout=30)
    recorder = BusClient(socket_path(run, "recorder"), connect_timeout=30)
    callctl.subscribe(["call.", "acd."])
    farend.subscribe(["farend.call."])
    recorder.subscribe(["rec."])
    # the far end's D-channel comes up over the simulated E1 (framing + HDLC + LAPD), agents sign in
    wait_until(lambda: all(s["dchan"] == "up" for s in farend.request("farend.status")["spans"]), 30,
               "the PRI D-channel to come up")
    wait_until(lambda: sum(a["state"] == "ready" for a in callctl.request("acd.agents")) == 2, 30,
               "both simulated agents to be ready")

    far_call = farend.request("farend.call", {"dnis": "10086", "ani": "13800138000", "digits": "1"})
    events = {}

    def seen(topic, data):
        if topic.startswith("call."):
            events.setdefault(topic, data)
        return topic == "call.ended"

    callctl.wait_event(seen, timeout=60)
    assert events["call.new"]["ani"] == "13800138000" and events["call.new"]["dnis"] == "10086"
    assert events["call.digit"]["digit"] == "1", "the DTMF digit was not detected from the line audio"
    assert events["call.answered"]["agent"] in ("1001", "1002")
    cdr_evt = events["call.ended"]
    assert cdr_evt["disposition"] == "answered" and cdr_evt["digits"] == "1"
    call_id = cdr_evt["call_id"]
    assert abs(cdr_evt["talk_s"] - TALK_S) < 1.0

    _, done = recorder.wait_event(lambda t, d: t == "rec.done" and d["call_id"] == call_id, timeout=30)
    wav_path = os.path.join(box["data"], "recordings", done["path"])
    with wave.open(wav_path) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        frames = w.readframes(w.getnframes())
        duration = w.getnframes() / 8000.0
    assert abs(duration - cdr_evt["talk_s"]) < 0.75, (duration, cdr_evt["talk_s"])
    pcm = array.array("h")
    pcm.frombytes(frames)
    caller, agent = pcm[0::2], pcm[1::2]
    mid = len(caller) // 2
    win_c, win_a = caller[mid - 800:mid + 800], agent[mid - 800:mid + 800]
    # the far end's caller speaks a 1000 Hz tone, the simulated agent 600 Hz
    assert goertzel_power(win_c, 1000) > 100 * goertzel_power(win_c, 600) > 0
    assert goertzel_power(win_a, 600) > 100 * goertzel_power(win_a, 1000) > 0
    assert goertzel_power(win_c, 1000) > 1e5

    with Store(box["data"]) as st:
        cdr = st.cdrs(call_id=call_id)[0]
        assert (cdr["disposition"], cdr["digits"], cdr["ani"]) == ("answered", "1", "13800138000")
        names = [e["event"] for e in st.call_events(call_id)]
        assert names[0] == "setup" and "dtmf" in names and "answered" in names and names[-1] == "ended"
        rec = st.recordings(call_id=call_id)[0]
        assert rec["state"] == "complete" and rec["channels"] == 2
    _, far_ended = farend.wait_event(lambda t, d: t == "farend.call.ended" and d["id"] == far_call["id"], timeout=30)
    assert far_ended["cause"] == 16 and far_ended["t_connect"] is not None
    box["call_id"] = call_id
    box["rec_id"] = rec["id"]
    for c in (callctl, farend, recorder):
        c.close()


def test_web_ui_shows_the_call_and_plays_its_recording(box):
    """After the call above: log in over HTTP and find it in the CDRs and recordings."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    assert "call_id" in box, "the end-to-end call did not complete (see the test above)"
    base = "http://127.0.0.1:%d" % box["port"]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path):
        with opener.open(base + path, timeout=10) as r:
            return r.status, r.read()

    status, body = wait_until(lambda: _try(get, "/login"), 30, "the web UI to answer")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "next": "/", "username": "admin",
                                   "password": "correct horse battery"}).encode()
    with opener.open(base + "/login", data=form, timeout=10) as r:
        assert r.status == 200
    status, cdr_page = get("/cdr")
    assert status == 200 and box["call_id"].encode() in cdr_page
    status, rec_page = get("/recordings/%d" % box["rec_id"])
    assert status == 200 and b"<audio" in rec_page
    status, wav = get("/recordings/%d.wav" % box["rec_id"])
    assert status == 200 and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    status, live = get("/api/live")
    import json
    live = json.loads(live)
    assert live["spans"][0]["up"] is True and live["spans"][0]["dchan"] == "up"


def _try(get, path):
    try:
        return get(path)
    except OSError:
        return None


def test_crashed_daemon_is_restarted_and_the_box_recovers(box):
    """kill -9 call control: the supervisor restarts it, it finds media again, calls work again."""
    run = box["run"]
    sup = BusClient(socket_path(run, "supervisor"), connect_timeout=10)
    before = {d["name"]: d for d in sup.request("sup.status")}
    os.kill(before["callctl"]["pid"], signal.SIGKILL)
    wait_until(lambda: {d["name"]: d for d in sup.request("sup.status")}["callctl"]["restarts"] == 1, 30,
               "the supervisor to restart call control")
    after = {d["name"]: d for d in sup.request("sup.status")}["callctl"]
    assert after["last_exit"] == "killed by signal SIGKILL"
    assert {d["name"]: d for d in sup.request("sup.status")}["media"]["restarts"] == 0

    callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
    farend = BusClient(socket_path(run, "farend"), connect_timeout=30)
    wait_until(lambda: all(s["dchan"] == "up" for s in callctl.request("sig.status")), 30,
               "the restarted call control's D-channel")
    # the agents' sign-ins survived the crash (the phones stayed plugged in and did nothing)
    agents = {a["login"]: a for a in callctl.request("acd.agents")}
    assert agents["1001"]["seat"] == 1 and agents["1002"]["seat"] == 2
    assert {agents["1001"]["state"], agents["1002"]["state"]} <= {"ready", "acw"}
    callctl.subscribe(["call."])
    farend.request("farend.call", {"digits": "2"})
    _, cdr = callctl.wait_event(lambda t, d: t == "call.ended", timeout=60)
    assert cdr["disposition"] == "answered" and cdr["digits"] == "2"
    for c in (sup, callctl, farend):
        c.close()


def test_console_over_its_pty_needs_login_and_shows_spans(box):
    """The console daemon's shell, driven the way a tech's laptop does: pyserial on the port."""
    import serial

    pty = os.path.join(box["run"], "console.pty")
    wait_until(lambda: os.path.exists(pty), 30, "the console pty")
    port = serial.serial_for_url(os.path.realpath(pty), 115200, timeout=0.2)

    def until(text, timeout=15):
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            buf += port.read(4096)
            if text in buf:
                return buf.decode("utf-8", "replace")
        raise AssertionError("console: %r not seen; got %r" % (text, buf[-400:]))

    port.write(b"\r")
    until(b"login:")
    port.write(b"admin\r")
    until(b"password:")
    port.write(b"wrong password\r")
    until(b"Login incorrect")
    port.write(b"admin\rcorrect horse battery\r")
    until(b"Welcome, admin")
    port.write(b"show span 0\r")
    out = until(b"Line Code is HDB3")
    assert "E1 0 is up" in out and "No alarms detected." in out
    port.write(b"show frobs\r")
    assert "show: usage: show spans|span N|channel" in until(b"usage")
    port.write(b"quit\r")
    until(b"login:")
    port.close()


def test_recorder_killed_mid_call_loses_nothing_it_had_written(box):
    """kill -9 the recorder while a call is being recorded: the part already on disk is
    repaired and indexed as 'recovered', and the rest of the call goes into a second file."""
    run = box["run"]
    sup = BusClient(socket_path(run, "supervisor"), connect_timeout=10)
    callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
    farend = BusClient(socket_path(run, "farend"), connect_timeout=30)
    wait_until(lambda: sum(a["state"] == "ready" for a in callctl.request("acd.agents")) >= 1, 30,
               "an agent to be ready")
    callctl.subscribe(["call."])
    farend.request("farend.call", {"digits": "1"})
    _, ans = callctl.wait_event(lambda t, d: t == "call.answered", timeout=30)
    time.sleep(0.5)          # let half a second of the call reach the disk: this is the fault's timing, not a wait for a result
    rec_pid = {d["name"]: d for d in sup.request("sup.status")}["recorder"]["pid"]
    os.kill(rec_pid, signal.SIGKILL)
    _, cdr = callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == ans["call_id"], timeout=30)
    recorder = BusClient(socket_path(run, "recorder"), connect_timeout=30)

    def parts():
        with Store(box["data"]) as st:
            return st.recordings(call_id=ans["call_id"])

    rows = wait_until(lambda: (lambda r: r if len(r) == 2 and all(x["state"] != "recording" for x in r) else None)(parts()),
                      30, "both parts of the recording to be closed")
    states = sorted(r["state"] for r in rows)
    assert states == ["complete", "recovered"]
    total = 0.0
    for r in rows:
        with wave.open(os.path.join(box["data"], "recordings", r["path"])) as w:
            assert w.getnchannels() == 2
            total += w.getnframes() / 8000.0
    assert 0.3 < total <= cdr["talk_s"] + 0.3      # what was lost is the restart gap, nothing written
    assert recorder.request("rec.status")["counters"]["rec:recovered"] >= 1
    for c in (sup, callctl, farend, recorder):
        c.close()


def test_media_bus_ops_validate_their_arguments(box):
    from callbox.errors import BusRemoteError

    media = BusClient(socket_path(box["run"], "media"), connect_timeout=10)
    assert media.request("span.bert", {"span": 0, "action": "show"}) == {"span": 0, "running": False}
    for op, args, text in [("span.bert", {"span": 0, "action": "start", "pattern": 9}, "11, 15, 20, 23"),
                           ("span.loopback", {"span": 0, "mode": "remote"}, "off, local, line, payload"),
                           ("span.loopback", {"span": 7, "mode": "off"}, "no such span"),
                           ("media.connect", {"a": "s0.16", "b": "seat1"}, "not a bearer"),
                           ("chan.play", {"ep": "s0.1", "prompt": "../../etc/passwd"}, "not found")]:
        with pytest.raises(BusRemoteError) as e:
            media.request(op, args)
        assert e.value.code == "bad-args" and text in str(e.value), (op, str(e.value))
    assert media.request("bus.ping")["name"] == "media"     # the connection survived every refusal
    media.close()


def test_field_tech_script_with_the_laptop_tool(box, tmp_path):
    """callbox-console over the console pty: DTMF sent by the far end shows in a monitor, a
    BERT over a local loopback finds the inserted error, an injected LOS shows in show span,
    and the report has all of it."""
    pty = os.path.join(box["run"], "console.pty")
    wait_until(lambda: os.path.exists(pty), 30, "the console pty")
    farend = BusClient(socket_path(box["run"], "farend"), connect_timeout=30)
    wait_until(lambda: not farend.request("farend.calls"), 30, "no far-end calls in progress")
    script = tmp_path / "checks.txt"
    script.write_text("\n".join([
        "show span 0",
        "monitor dtmf span 0 chan 1 --for 6",
        "loopback span 0 local",
        "bert span 0 start",
        "sleep 1",
        "bert span 0 insert",
        "sleep 1",
        "bert span 0 show",
        "bert span 0 stop",
        "loopback span 0 off",
        "impair span 0 los on",
        "sleep 2",
        "show span 0",
        "impair span 0 clear",
        "selftest",
    ]) + "\n")
    env = dict(os.environ, CALLBOX_CONSOLE_PASSWORD="correct horse battery")
    proc = subprocess.Popen([sys.executable, "-m", "callbox.tools.console_client", os.path.realpath(pty),
                             "--script", str(script), "--report", str(tmp_path / "report"), "--wait", "30"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:                # start the far-end call once the monitor runs
            if "running: monitor dtmf" in line:
                farend.request("farend.call", {"dnis": "10086", "ani": "13800138000", "digits": "159#",
                                               "hangup_after_s": 3})
                break
        proc.stderr.read()
        assert proc.wait(120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    rep = json.loads((tmp_path / "report.json").read_text())
    out = {c["command"]: c["output"] for c in rep["commands"]}
    assert rep["result"] == "ok"
    assert "No alarms detected." in rep["commands"][0]["output"]
    monitor = out["monitor dtmf span 0 chan 1"]
    assert [line.split()[-1] for line in monitor.splitlines() if "digit" in line] == ["1", "5", "9", "#"]
    bert = out["bert span 0 show"]
    assert "in sync" in bert and re.search(r"errors [1-9]", bert)
    assert rep["commands"][9]["command"] == "show span 0" and "Receiver has LOS" in rep["commands"][9]["output"]
    assert "selftest:" in out["selftest"]
    assert os.path.exists(tmp_path / "report.txt")


def test_health_check_passes_on_a_running_box(box):
    from callbox.tools.health import check
    results = wait_until(lambda: (lambda r: r if all(ok for _, ok, _ in r) else None)(check(box["run"])), 30,
                         "every daemon healthy")
    assert [name for name, _, _ in results] == ["supervisor", "media", "callctl", "recorder"]


def test_browser_login_configure_wallboard_recording_and_csv(box, tmp_path):
    """Headless Chromium against the running box: log in, add a queue, watch a call on the
    wallboard, open a recording, export the CSV; a screenshot of each page is kept."""
    import shutil
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        pytest.skip("needs the selenium package (pip install -e .[test])")
    chrome, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chrome or not driver_bin:
        pytest.skip("needs Debian packages chromium and chromium-driver")
    shots = os.environ.get("CALLBOX_ARTIFACTS") or os.path.join(os.path.dirname(__file__), "..", "..",
                                                                "test-artifacts", "browser")
    os.makedirs(shots, exist_ok=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    base = "http://127.0.0.1:%d" % box["port"]
    try:
        def shot(name):
            drv.save_screenshot(os.path.join(shots, name + ".png"))

        def wait_text(text, timeout=20):
            wait_until(lambda: text in drv.page_source, timeout, "%r on %s" % (text, drv.current_url))

        drv.get(base + "/login")
        drv.find_element(By.NAME, "username").send_keys("admin")
        drv.find_element(By.NAME, "password").send_keys("correct horse battery")
        drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_text("Dashboard")
        shot("dashboard")
        drv.get(base + "/config/queues")
        drv.find_element(By.CSS_SELECTOR, "form.config input[name=name]").send_keys("browserq")
        drv.find_element(By.CSS_SELECTOR, "form.config input[name=skills]").send_keys("support:1")
        drv.find_element(By.CSS_SELECTOR, "form.config button[type=submit]").click()
        wait_text("Saved and applied")
        assert "browserq" in drv.page_source
        shot("queues")
        # a call that waits: both agents not ready, so it sits in the queue on the wallboard
        callctl = BusClient(socket_path(box["run"], "callctl"), connect_timeout=30)
        for a in callctl.request("acd.agents"):
            callctl.request("acd.agent.set_state", {"login": a["login"], "state": "not-ready", "reason": "test"})
        drv.get(base + "/wallboard")
        farend = BusClient(socket_path(box["run"], "farend"), connect_timeout=30)
        farend.request("farend.call", {"dnis": "10086", "ani": "13800000099", "digits": "1", "hangup_after_s": 25})
        wait_until(lambda: drv.find_element(By.ID, "wall-waiting").text == "1", 30, "the waiting call on the wallboard")
        shot("wallboard")
        for a in callctl.request("acd.agents"):
            callctl.request("acd.agent.set_state", {"login": a["login"], "state": "ready"})
        drv.get(base + "/recordings")
        links = drv.find_elements(By.CSS_SELECTOR, "a[href^='/recordings/']")
        assert links, "a recording from the earlier calls"
        links[0].click()
        wait_text("<audio")
        shot("recording")
        drv.get(base + "/cdr")
        shot("cdr")
        href = drv.find_element(By.CSS_SELECTOR, "a[href='/cdr.csv']").get_attribute("href")
        csv_text = drv.execute_script(
            "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); return x.responseText;", href)
        assert csv_text.splitlines()[0].startswith("call_id,")
        assert len(csv_text.splitlines()) >= 2
    finally:
        drv.quit()
