"""The recorder: turns the media engine's recording taps into WAV files and index rows.

Every recorded call becomes one stereo WAV (left = caller, right = agent),
16-bit PCM at 8 kHz, under ``<data>/recordings/YYYY/MM/DD/<call_id>.wav``. The
media engine sends one batched event per tick with each call's two 20 ms
directions in A-law; tick numbers let the recorder fill silence for ticks it
missed, so the two directions and the file stay in time with the call.

The disk-space guard refuses new recordings (counted, logged) while free space
on /data is under ``min_free_mb``; calls are never affected.
"""
import array
import logging
import os
import shutil
import time

from callbox import dsp
from callbox.recorder.wavfile import WavWriter, recover

log = logging.getLogger("callbox.recorder")
SILENCE_STEREO = bytes(160 * 2 * 2)


class Recorder:
    """Args:
        store (Store): the index.
        rec_dir (str): root of the recordings directory.
        publish (callable): publish(topic, data) for rec.* events.
    """

    def __init__(self, store, rec_dir, publish=None, min_free_mb=200):
        self.store = store
        self.rec_dir = rec_dir
        self.publish = publish or (lambda t, d: None)
        self.min_free_mb = min_free_mb
        self.open = {}            # call_id -> dict(writer, rec_id, last_tick)
        self.counters = {"rec:started": 0, "rec:completed": 0, "rec:recovered": 0,
                         "rec:refused_disk_full": 0, "rec:gap_ticks": 0, "rec:write_errors": 0}
        self._lin_a = array.array("h", bytes(320))
        self._lin_b = array.array("h", bytes(320))
        self._stereo = array.array("h", bytes(640))
        os.makedirs(rec_dir, exist_ok=True)

    def recover_all(self):
        """Repair every ``.part`` file a crash left and mark its index row recovered."""
        for root, _, files in os.walk(self.rec_dir):
            for fn in files:
                if not fn.endswith(".wav.part"):
                    continue
                part = os.path.join(root, fn)
                try:
                    final, nbytes = recover(part)
                except OSError as e:
                    log.error("Recovering recording %s: %s", part, e)
                    continue
                rel = os.path.relpath(final, self.rec_dir)
                rows = self.store.query("SELECT id FROM recordings WHERE path=?", (rel,))
                dur = nbytes / 32000.0
                if rows:
                    self.store.finish_recording(rows[0]["id"], dur, nbytes + 44, state="recovered")
                else:
                    rid = self.store.add_recording(fn.split(".")[0], rel, os.path.getmtime(final) - dur)
                    self.store.finish_recording(rid, dur, nbytes + 44, state="recovered")
                self.counters["rec:recovered"] += 1
                log.warning("Recovered recording %s (%.1f s) left by a crash", rel, dur)
        self.store.execute("UPDATE recordings SET state='recovered' WHERE state='recording'")

    def prune(self, retention_days, now=None):
        """Delete finished recordings older than ``retention_days`` (0 keeps everything):
        the file, then its index row, each deletion written to the audit log. Recordings in
        progress are never touched. Returns the number deleted."""
        if not retention_days or retention_days <= 0:
            return 0
        cutoff = (now or time.time()) - retention_days * 86400.0
        rows = self.store.query("SELECT id, call_id, path FROM recordings WHERE start < ? AND state != 'recording' "
                                "ORDER BY start LIMIT 10000", (cutoff,))
        root = os.path.realpath(self.rec_dir)
        gone = 0
        for r in rows:
            path = os.path.realpath(os.path.join(self.rec_dir, r["path"]))
            if not path.startswith(root + os.sep):
                log.error("Recording %d: path %r is outside the recordings directory; left alone", r["id"], r["path"])
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                log.error("Deleting expired recording %s: %s", r["path"], e)
                continue
            self.store.execute("DELETE FROM recordings WHERE id=?", (r["id"],))
            self.store.execute("INSERT INTO audit(t, user, action, detail) VALUES(?, NULL, 'recording.expired', ?)",
                               (time.time(), "id=%d call=%s path=%s retention=%gd" % (r["id"], r["call_id"], r["path"],
                                                                                 retention_days)))
            gone += 1
        if gone:
            self.counters["rec:expired"] = self.counters.get("rec:expired", 0) + gone
            log.info("Deleted %d recording(s) older than %g days", gone, retention_days)
        return gone

    def _free_mb(self):
        return shutil.disk_usage(self.rec_dir).free / 1e6

    def start(self, call_id, t=None, tick=0):
        if call_id in self.open:
            return
        if self._free_mb() < self.min_free_mb:
            self.counters["rec:refused_disk_full"] += 1
            log.error("Recording call %s refused: only %.0f MB free on %s (guard %d MB)",
                      call_id, self._free_mb(), self.rec_dir, self.min_free_mb)
            self.open[call_id] = None
            return
        t = t or time.time()
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_")
        rel = os.path.join(time.strftime("%Y/%m/%d", time.localtime(t)), safe + ".wav")
        n = 1
        while os.path.exists(os.path.join(self.rec_dir, rel)) or os.path.exists(os.path.join(self.rec_dir, rel + ".part")):
            n += 1
            rel = os.path.join(time.strftime("%Y/%m/%d", time.localtime(t)), "%s-%d.wav" % (safe, n))
        w = WavWriter(os.path.join(self.rec_dir, rel))
        rid = self.store.add_recording(call_id, rel, t)
        self.open[call_id] = {"w": w, "id": rid, "tick": tick, "rel": rel}
        self.counters["rec:started"] += 1
        self.publish("rec.started", {"call_id": call_id, "rec_id": rid, "path": rel})

    def blocks(self, tick, blocks):
        """One tick's taps: [[call_id, caller A-law, agent A-law], ...]."""
        for cid, a, b in blocks:
            if cid not in self.open:
                self.start(cid, tick=tick - 1)       # we (re)started mid-call
            rec = self.open.get(cid)
            if rec is None or len(a) != 160 or len(b) != 160:
                continue
            gap = tick - rec["tick"] - 1
            if 0 < gap < 50 * 60:
                self.counters["rec:gap_ticks"] += gap
                for _ in range(gap):
                    rec["w"].write(SILENCE_STEREO)
            rec["tick"] = tick
            dsp.alaw_to_linear(a, self._lin_a)
            dsp.alaw_to_linear(b, self._lin_b)
            self._stereo[0::2] = self._lin_a
            self._stereo[1::2] = self._lin_b
            try:
                rec["w"].write(self._stereo.tobytes())
            except OSError as e:
                self.counters["rec:write_errors"] += 1
                log.error("Writing recording of call %s: %s", cid, e)

    def stop(self, call_id):
        rec = self.open.pop(call_id, None)
        if rec is None:
            return None
        w = rec["w"]
        try:
            w.close()
        except OSError as e:
            self.counters["rec:write_errors"] += 1
            log.error("Closing recording of call %s: %s", call_id, e)
            return None
        self.store.finish_recording(rec["id"], w.duration_s, w.data_bytes + 44)
        self.counters["rec:completed"] += 1
        info = {"call_id": call_id, "rec_id": rec["id"], "path": rec["rel"], "duration_s": w.duration_s}
        self.publish("rec.done", info)
        return info

    def close_all(self):
        for cid in list(self.open):
            self.stop(cid)

    def status(self):
        return {"open": sorted(c for c, r in self.open.items() if r), "counters": dict(self.counters),
                "free_mb": round(self._free_mb(), 1), "min_free_mb": self.min_free_mb}
