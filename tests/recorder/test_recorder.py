"""Recorder: two-channel WAVs in step with the call, crash recovery, disk guard."""
import os
import wave

import pytest

from callbox import dsp
from callbox.config.store import Store
from callbox.recorder.recorder import Recorder
from callbox.recorder.wavfile import WavWriter, recover


def alaw_block(value):
    import array
    return bytes(dsp.linear_to_alaw(array.array("h", [value] * 160)))


@pytest.fixture
def rec(tmp_path):
    st = Store(str(tmp_path / "data"))
    events = []
    r = Recorder(st, str(tmp_path / "rec"), lambda t, d: events.append((t, d)), min_free_mb=0)
    r.events = events
    yield r
    st.close()


def read_wav(path):
    with wave.open(path) as w:
        import array
        a = array.array("h")
        a.frombytes(w.readframes(w.getnframes()))
        return w.getnchannels(), w.getframerate(), a


def test_call_becomes_stereo_wav_with_caller_left_agent_right(rec):
    rec.start("c1", tick=10)
    for t in range(11, 61):
        rec.blocks(t, [["c1", alaw_block(1000), alaw_block(-2000)]])
    info = rec.stop("c1")
    assert info["duration_s"] == pytest.approx(1.0)
    ch, rate, pcm = read_wav(os.path.join(rec.rec_dir, info["path"]))
    assert (ch, rate, len(pcm)) == (2, 8000, 16000)
    assert abs(pcm[0] - 1000) < 40 and abs(pcm[1] + 2000) < 80
    row = rec.store.recording(info["rec_id"])
    assert row["state"] == "complete" and row["duration_s"] == pytest.approx(1.0)
    assert rec.events[-1][0] == "rec.done"


def test_missed_ticks_are_filled_with_silence_to_keep_time(rec):
    rec.start("c1", tick=0)
    rec.blocks(1, [["c1", alaw_block(1000), alaw_block(1000)]])
    rec.blocks(5, [["c1", alaw_block(1000), alaw_block(1000)]])     # ticks 2-4 lost
    info = rec.stop("c1")
    _, _, pcm = read_wav(os.path.join(rec.rec_dir, info["path"]))
    assert len(pcm) == 5 * 320
    assert pcm[320] == 0 and abs(pcm[4 * 320] - 1000) < 40
    assert rec.counters["rec:gap_ticks"] == 3


def test_crash_leaves_a_part_file_that_recovery_repairs(rec, tmp_path):
    rec.start("c9", tick=0)
    for t in range(1, 101):
        rec.blocks(t, [["c9", alaw_block(500), alaw_block(500)]])
    w = rec.open["c9"]["w"]
    w.f.flush()
    w.f.write(b"\x01\x02\x03")          # a torn write at the moment of the crash
    w.f.flush()
    rec.open.clear()                    # the process dies: nothing is closed
    r2 = Recorder(rec.store, rec.rec_dir, min_free_mb=0)
    r2.recover_all()
    rows = rec.store.recordings(call_id="c9")
    assert rows[0]["state"] == "recovered"
    ch, _, pcm = read_wav(os.path.join(rec.rec_dir, rows[0]["path"]))
    assert ch == 2 and len(pcm) == 100 * 320
    assert not any(f.endswith(".part") for _, _, fs in os.walk(rec.rec_dir) for f in fs)


def test_recover_tiny_file(tmp_path):
    p = tmp_path / "x.wav.part"
    p.write_bytes(b"RIFF")
    final, n = recover(str(p))
    assert n == 0 and wave.open(final).getnframes() == 0


def test_disk_guard_refuses_new_recordings_but_not_calls(tmp_path):
    with Store(str(tmp_path / "d")) as st:
        r = Recorder(st, str(tmp_path / "rec"), min_free_mb=10 ** 12)
        r.start("c1")
        r.blocks(1, [["c1", alaw_block(1), alaw_block(1)]])
        assert r.stop("c1") is None
        assert r.counters["rec:refused_disk_full"] == 1
        assert st.recordings() == []


def test_recorder_restart_mid_call_opens_a_second_part(rec):
    rec.blocks(7, [["c2", alaw_block(1), alaw_block(1)]])        # no open seen: recorder restarted
    assert "c2" in rec.open
    info = rec.stop("c2")
    assert info["duration_s"] == pytest.approx(0.02)


def test_wav_writer_header_is_valid_while_recording(tmp_path):
    w = WavWriter(str(tmp_path / "a" / "b.wav"), header_every=2)
    for _ in range(4):
        w.write(bytes(640))
    with wave.open(w.part) as r:
        assert r.getnframes() == 4 * 160
    w.close()


def test_retention_deletes_old_finished_recordings_only(rec):
    now = 1_800_000_000.0
    for cid, age_days in (("old", 40), ("recent", 5)):
        rec.start(cid, t=now - age_days * 86400, tick=1)
        rec.blocks(2, [[cid, alaw_block(1000), alaw_block(1000)]])
        rec.stop(cid)
    rec.start("live", t=now - 50 * 86400, tick=1)          # still recording: never deleted
    old_path = os.path.join(rec.rec_dir, rec.store.recordings(call_id="old")[0]["path"])
    assert os.path.exists(old_path)
    assert rec.prune(0, now=now) == 0                       # 0 keeps everything
    assert rec.prune(30, now=now) == 1
    assert not os.path.exists(old_path) and rec.store.recordings(call_id="old") == []
    assert rec.store.recordings(call_id="recent") and rec.store.recordings(call_id="live")
    assert rec.store.query("SELECT action FROM audit") == [{"action": "recording.expired"}]
