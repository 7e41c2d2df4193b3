"""The supervisor: starts every daemon, restarts a crashed one with back-off, and says why.

Each daemon is a child process. When one exits unexpectedly the supervisor
logs its exit code or signal, waits (0.5 s, doubling to 30 s, reset after a
minute of stable running) and starts it again. Other daemons keep running: the
bus clients reconnect by themselves. On SIGTERM it stops the children in
reverse order (SIGTERM, then SIGKILL after a grace period).
"""
import asyncio
import logging
import os
import shutil
import signal
import sys
import time

log = logging.getLogger("callbox.supervisor")
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
STABLE_S = 60.0


class Child:
    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.proc = None
        self.restarts = 0
        self.backoff = BACKOFF_MIN
        self.started = 0.0
        self.last_exit = None
        self.state = "stopped"

    def snapshot(self):
        return {"name": self.name, "pid": self.proc.pid if self.proc and self.proc.returncode is None else None,
                "state": self.state, "restarts": self.restarts, "last_exit": self.last_exit,
                "uptime_s": round(time.time() - self.started, 1) if self.state == "running" else 0}


def describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return "killed by signal %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exited with status %d" % code


class Supervisor:
    def __init__(self, children, log_dir=None):
        self.children = children
        self.log_dir = log_dir
        self.stopping = False
        self._tasks = []

    async def _run_child(self, ch):
        while not self.stopping:
            out = None
            if self.log_dir:
                os.makedirs(self.log_dir, exist_ok=True)
                out = open(os.path.join(self.log_dir, ch.name + ".log"), "ab")
            try:
                ch.proc = await asyncio.create_subprocess_exec(*ch.argv, env=ch.env, stdout=out or None,
                                                               stderr=asyncio.subprocess.STDOUT if out else None)
            except OSError as e:
                ch.last_exit = "could not start: %s" % e
                log.error("%s: %s", ch.name, ch.last_exit)
                ch.state = "backoff"
                await asyncio.sleep(ch.backoff)
                ch.backoff = min(ch.backoff * 2, BACKOFF_MAX)
                continue
            finally:
                if out:
                    out.close()
            ch.started = time.time()
            ch.state = "running"
            log.info("%s: started, pid %d", ch.name, ch.proc.pid)
            code = await ch.proc.wait()
            ran = time.time() - ch.started
            ch.last_exit = describe_exit(code)
            if self.stopping:
                ch.state = "stopped"
                log.info("%s: stopped (%s)", ch.name, ch.last_exit)
                return
            if ran >= STABLE_S:
                ch.backoff = BACKOFF_MIN
            ch.restarts += 1
            ch.state = "backoff"
            log.error("%s: %s after %.1f s; restart %d in %.1f s", ch.name, ch.last_exit, ran, ch.restarts, ch.backoff)
            await asyncio.sleep(ch.backoff)
            ch.backoff = min(ch.backoff * 2, BACKOFF_MAX)

    def start(self):
        for ch in self.children:
            self._tasks.append(asyncio.ensure_future(self._run_child(ch)))

    async def stop(self, grace=5.0):
        self.stopping = True
        for ch in reversed(self.children):
            if ch.proc and ch.proc.returncode is None:
                ch.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for ch in reversed(self.children):
            if ch.proc and ch.proc.returncode is None:
                try:
                    await asyncio.wait_for(ch.proc.wait(), max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    log.warning("%s: did not stop in %.0f s, killing", ch.name, grace)
                    ch.proc.kill()
                    await ch.proc.wait()
        for t in self._tasks:
            t.cancel()

    def status(self):
        return [ch.snapshot() for ch in self.children]

    def restart(self, name):
        for ch in self.children:
            if ch.name == name:
                if ch.proc and ch.proc.returncode is None:
                    ch.proc.send_signal(signal.SIGTERM)
                return {"name": name}
        raise ValueError("daemon %r: not supervised here (known: %s)" % (name, ", ".join(c.name for c in self.children)))


RESET_MARK = ".factory-reset"


def factory_reset_if_marked(data_dir):
    """Wipe the data directory if the console's factory-reset marked it; returns True if wiped.

    Everything under data_dir goes (configuration, users, CDRs, recordings, voicemail,
    certificates); the firmware lives elsewhere and is kept.
    """
    mark = os.path.join(data_dir, RESET_MARK)
    if not os.path.exists(mark):
        return False
    for name in os.listdir(data_dir):
        if name == RESET_MARK:
            continue
        path = os.path.join(data_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    os.unlink(mark)
    log.warning("factory reset: %s wiped", data_dir)
    return True


def daemon_argv(module, args, extra=()):
    argv = [sys.executable, "-m", "callbox.daemons." + module, "--data-dir", args.data_dir,
            "--run-dir", args.run_dir, "--log-level", args.log_level]
    if getattr(args, "log_dir", None):
        argv += ["--log-dir", args.log_dir]
    return argv + list(extra)
