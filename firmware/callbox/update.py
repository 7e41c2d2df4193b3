"""Firmware updates: signed RAUC bundles, checked completely before anything is written.

An update goes through three steps, each reported to a progress callback
``progress(percent, text)``:

1. ``check``: the file is a RAUC bundle (squashfs magic), its signature verifies against
   the box's keyring (``rauc info --keyring``), its ``compatible`` is this board's and its
   payload is intact (``rauc extract`` into a scratch directory on /data, which checks the
   verity hash tree of every block; the scratch copy is deleted). Unsigned, foreign-signed,
   corrupted, truncated and wrong-board bundles stop here with a message that says which.
2. ``install``: ``rauc install`` writes the inactive slot and switches the boot order
   (on the box). In simulation, :class:`SimSlots` keeps two slot directories under
   ``<data>/sim-slots`` and a state file with the same meaning.
3. After the reboot the health check (board/common/rootfs-overlay/usr/libexec/callbox/
   health-check) marks the new slot good only when the box works; otherwise the boot
   loader falls back to the old slot.

Nothing here blocks a daemon's event loop: callers run :func:`apply` on a thread.
"""
import configparser
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from callbox.errors import CallboxError

SYSTEM_CONF = "/etc/rauc/system.conf"
SQUASHFS_MAGIC = b"hsqs"
RAUC_TIMEOUT_S = 1800


class UpdateError(CallboxError):
    """A bundle refused (with the reason) or an install that failed."""


def box_identity(system_conf=SYSTEM_CONF, data_dir=None):
    """(compatible, keyring path) of this box: from RAUC's system.conf on the box, else the
    simulation's ``<data>/update.json`` ({"compatible", "keyring"})."""
    if os.path.exists(system_conf):
        cp = configparser.ConfigParser()
        cp.read(system_conf)
        return cp.get("system", "compatible", fallback=""), cp.get("keyring", "path", fallback="")
    if data_dir:
        try:
            with open(os.path.join(data_dir, "update.json")) as f:
                cfg = json.load(f)
            return str(cfg.get("compatible", "")), str(cfg.get("keyring", ""))
        except (OSError, ValueError):
            pass
    return "", ""


def _rauc(args, timeout=RAUC_TIMEOUT_S):
    if shutil.which("rauc") is None:
        raise UpdateError("the rauc command is not installed (Debian package rauc); updates need it")
    return subprocess.run(["rauc"] + args, capture_output=True, text=True, timeout=timeout)


def _why(stderr):
    """RAUC's complaint in words an installer can act on."""
    text = stderr or ""
    last = [ln for ln in text.splitlines() if ln.strip() and "rauc-Message" not in ln]
    detail = (last[-1] if last else text.strip().splitlines()[-1] if text.strip() else "no detail").strip()
    low = text.lower()
    if "signature verification failed" in low or "verify error" in low:
        return "the bundle is not signed by a key this box trusts (%s)" % detail
    if "exceeds bundle size" in low or "too small" in low or "truncated" in low:
        return "the bundle is truncated or not a bundle (%s)" % detail
    if "payload is corrupted" in low or "verification of data area failed" in low:
        return "the bundle is corrupted: its contents do not match its signed hashes (%s)" % detail
    return detail


def check(path, keyring, compatible, scratch_dir, progress=lambda p, t: None):
    """Check a bundle completely. Returns {"version", "compatible", "size", "images"}.

    Raises:
        UpdateError: with the reason; nothing has been written anywhere but ``scratch_dir``
            (cleaned up).
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise UpdateError("cannot read the bundle %s: %s" % (path, e.strerror)) from None
    if size < 4096 or magic != SQUASHFS_MAGIC:
        raise UpdateError("%s is not a RAUC bundle (%d bytes%s)" % (
            os.path.basename(path), size, "" if size < 4 else ", starts with %r" % magic))
    if not keyring or not os.path.exists(keyring):
        raise UpdateError("this box has no keyring (%s); it cannot check signatures, so it installs nothing"
                          % (keyring or "not configured"))
    progress(2, "checking the signature")
    r = _rauc(["info", "--keyring", keyring, "--output-format=json", path], timeout=300)
    if r.returncode != 0:
        raise UpdateError("refused: " + _why(r.stderr))
    try:
        info = json.loads(r.stdout)
    except ValueError:
        raise UpdateError("refused: rauc info gave no readable manifest") from None
    if info.get("compatible") != compatible:
        raise UpdateError("refused: the bundle is for %r, this box is %r" % (info.get("compatible"), compatible))
    progress(10, "checking every block of the contents")
    os.makedirs(scratch_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bundle-check-", dir=scratch_dir)
    try:
        out = os.path.join(tmp, "x")
        r = _rauc(["extract", "--keyring", keyring, path, out])
        if r.returncode != 0:
            raise UpdateError("refused: " + _why(r.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    images = [name for img in info.get("images", []) for name in img]
    progress(45, "bundle %s for %s checked" % (info.get("version"), compatible))
    return {"version": info.get("version"), "compatible": info.get("compatible"), "size": size, "images": images}


class RaucInstaller:
    """The box: ``rauc install`` into the inactive slot."""

    def install(self, path, progress):
        if shutil.which("rauc") is None:
            raise UpdateError("the rauc command is not installed")
        proc = subprocess.Popen(["rauc", "install", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        tail = []
        for line in proc.stdout:
            tail = (tail + [line.strip()])[-5:]
            m = re.search(r"(\d{1,3})%\s*(.*)", line)
            if m:
                progress(45 + int(m.group(1)) * 55 // 100, m.group(2).strip() or "installing")
        if proc.wait() != 0:
            raise UpdateError("rauc install failed: %s" % (tail[-1] if tail else "exit %d" % proc.returncode))
        return "installed; it runs after the next reboot and stays only if its health check passes"


class SimSlots:
    """Simulation of the A/B slots: ``<root>/A``, ``<root>/B`` and ``state.json``
    ({"booted": "A", "next": "B" | null, "slots": {"A": {...}, "B": {...}}})."""

    def __init__(self, root, keyring):
        self.root, self.keyring = root, keyring

    def state(self):
        try:
            with open(os.path.join(self.root, "state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"booted": "A", "next": None, "slots": {"A": {"version": "running", "state": "good"}}}

    def _save(self, st):
        tmp = os.path.join(self.root, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(st, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.root, "state.json"))

    def install(self, path, progress):
        os.makedirs(self.root, exist_ok=True)
        st = self.state()
        target = "B" if st["booted"] == "A" else "A"
        slot = os.path.join(self.root, target)
        shutil.rmtree(slot, ignore_errors=True)
        progress(50, "writing slot %s" % target)
        r = _rauc(["extract", "--keyring", self.keyring, path, slot])
        if r.returncode != 0:
            shutil.rmtree(slot, ignore_errors=True)
            raise UpdateError("writing slot %s failed: %s" % (target, _why(r.stderr)))
        with open(os.path.join(slot, "manifest.raucm")) as f:
            m = re.search(r"^version\s*=\s*(.+)$", f.read(), re.M)
        progress(95, "switching the boot order to slot %s" % target)
        st["slots"][target] = {"version": m.group(1).strip() if m else "?", "state": "pending",
                               "installed": time.time()}
        st["next"] = target
        self._save(st)
        return "installed in slot %s; it runs after the next reboot (simulation: nothing reboots)" % target


def installer_for(data_dir, keyring, system_conf=SYSTEM_CONF):
    """RAUC on the box (it has a system.conf), the simulated slots elsewhere."""
    if os.path.exists(system_conf):
        return RaucInstaller()
    return SimSlots(os.path.join(data_dir, "sim-slots"), keyring)


def slot_summary(data_dir, system_conf=SYSTEM_CONF):
    """One line on the slots for the System page and the console."""
    if os.path.exists(system_conf):
        try:
            r = _rauc(["status", "--output-format=json"], timeout=10)
            st = json.loads(r.stdout) if r.returncode == 0 else {}
        except (UpdateError, ValueError, subprocess.TimeoutExpired):
            st = {}
        if not st:
            return "slot status not available (rauc status failed)"
        return "booted from %s; next boot: %s" % (st.get("booted", "?"), st.get("boot_primary", "?"))
    st = SimSlots(os.path.join(data_dir, "sim-slots"), "").state()
    nxt = st.get("next")
    if not nxt:
        return "simulation: running slot %s; no update waiting" % st["booted"]
    info = st["slots"].get(nxt, {})
    return "simulation: running slot %s; next boot: slot %s with %s (%s until its health check passes)" % (
        st["booted"], nxt, info.get("version", "?"), info.get("state", "?"))


def apply(path, keyring, compatible, scratch_dir, installer, progress=lambda p, t: None):
    """Check, then install. Returns a summary dict; raises UpdateError."""
    info = check(path, keyring, compatible, scratch_dir, progress)
    msg = installer.install(path, progress)
    progress(100, msg)
    return dict(info, result=msg)
