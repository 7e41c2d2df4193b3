"""Helpers of the tests that run the whole box (system and interop tests)."""
import math
import socket
import time


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1 free right now (TCP by default, or SOCK_DGRAM)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def goertzel_power(samples, freq, rate=8000):
    """Power of one frequency in a block of linear samples."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(samples) ** 2)


def wait_until(fn, timeout, what):
    """Poll fn until it returns something true (returned); AssertionError naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def multipart(fields, files):
    """(body, content type) of a multipart/form-data request; files: name -> (filename, bytes)."""
    b = "----cbtestboundary"
    out = []
    for k, v in fields.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (b, k, v)).encode())
    for k, (fn, data) in files.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                    'Content-Type: application/octet-stream\r\n\r\n' % (b, k, fn)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % b


def make_bundle_module():
    """tools/make_bundle.py as a module (bundles for the update tests)."""
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "make_bundle.py")
    spec = importlib.util.spec_from_file_location("make_bundle", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stop_box(proc, log_dir, tail=3000):
    """Stop a supervisor started by a test (SIGTERM, then SIGKILL after 15 s) and print the end
    of every daemon's log, so a failure shows what the box said."""
    import os
    import signal
    import subprocess
    import sys
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    for fn in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
        with open(os.path.join(log_dir, fn), errors="replace") as f:
            sys.stdout.write("\n----- %s -----\n%s" % (fn, f.read()[-tail:]))


def start_sim_box(tmp_path, spans=1, seats=1, configure=None, extra=()):
    """The whole box in simulation under its supervisor, with one call at a time placed by the
    test (rate 0) and 1.5 s fixed handle times. configure(store) edits the seeded config first.

    Returns:
        (Popen, dict): the supervisor and its data, run and log directories.
    """
    import os
    import subprocess
    import sys
    from callbox.config.defaults import seed_simulation
    from callbox.config.store import Store
    dirs = {k: str(tmp_path / k) for k in ("data", "run", "log")}
    with Store(dirs["data"]) as st:
        seed_simulation(st, spans=spans, seats=seats)
        if configure:
            configure(st)
    proc = subprocess.Popen([sys.executable, "-m", "callbox.daemons.supervisor", "--sim", "--data-dir", dirs["data"],
                             "--run-dir", dirs["run"], "--log-dir", dirs["log"], "--web-port", str(free_port()),
                             "--rate", "0", "--talk-s", "1.5", "--talk-dist", "fixed"] + list(extra),
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    return proc, dirs
