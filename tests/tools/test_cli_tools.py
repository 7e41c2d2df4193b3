"""callbox-dtmf, callbox-e1 and callbox-t1 over files, as a tech or a test harness runs them."""
import array
import random
import wave

import pytest

from callbox import dsp
from callbox.line import E1Tx
from callbox.tools import dtmf_detect, e1_decode, t1_decode


def dtmf_samples(digits, on_ms=60, off_ms=60):
    gen = dsp.ToneGeneratorBank(1)
    gen.send_dtmf(0, digits, on_ms=on_ms, off_ms=off_ms, level_dbm0=-12)
    out, buf = array.array("h"), array.array("h", bytes(320))
    while gen.active(0):
        gen.generate(buf, 160)
        out.extend(buf)
    return out


def write_wav(path, samples, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())


def test_dtmf_from_wav_and_raw_alaw(tmp_path, capsys):
    s = array.array("h", bytes(2 * 800)) + dtmf_samples("0123456789*#")
    write_wav(tmp_path / "a.wav", s)
    assert dtmf_detect.main([str(tmp_path / "a.wav")]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert "".join(l.split()[1] for l in lines if l.strip()) == "0123456789*#"
    assert abs(float(lines[0].split()[0]) - 0.1) < 0.06          # first digit starts at 100 ms
    (tmp_path / "a.raw").write_bytes(dsp.linear_to_alaw(s))
    assert dtmf_detect.main(["--format", "alaw", str(tmp_path / "a.raw")]) == 0
    assert "".join(l.split()[1] for l in capsys.readouterr().out.split("\n") if l.strip()) == "0123456789*#"


def test_dtmf_picks_the_right_channel_of_a_stereo_recording(tmp_path, capsys):
    left, right = dtmf_samples("12"), dtmf_samples("98")
    n = min(len(left), len(right))
    st = array.array("h", bytes(4 * n))
    st[0::2], st[1::2] = left[:n], right[:n]
    write_wav(tmp_path / "s.wav", st, channels=2)
    dtmf_detect.main(["--channel", "1", str(tmp_path / "s.wav")])
    assert "".join(l.split()[1] for l in capsys.readouterr().out.split("\n") if l.strip()) == "98"


def test_dtmf_bad_files_are_explained(tmp_path, capsys):
    (tmp_path / "x.wav").write_bytes(b"not a wav")
    assert dtmf_detect.main([str(tmp_path / "x.wav")]) == 2
    assert "not a RIFF/WAVE" in capsys.readouterr().err
    with wave.open(str(tmp_path / "h.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(100))
    assert dtmf_detect.main([str(tmp_path / "h.wav")]) == 2
    assert "needs 8000 Hz" in capsys.readouterr().err
    assert dtmf_detect.main([str(tmp_path / "missing.wav")]) == 2


def test_e1_decode_reports_alignment_and_crc4(tmp_path, capsys):
    rng = random.Random(1)
    tx = E1Tx(crc4=True)
    raw = b"".join(bytes(tx.frame(bytes(rng.randrange(256) for _ in range(5120)))) for _ in range(10))
    raw = bytearray(raw)
    raw[900 * 32 + 5] ^= 0x08                                         # one CRC-4 error
    (tmp_path / "cap.bin").write_bytes(bytes(raw))
    assert e1_decode.main(["--crc4", "--payload", str(tmp_path / "p.bin"), str(tmp_path / "cap.bin")]) == 0
    out = capsys.readouterr().out
    assert "E1 is up" in out and "No alarms detected." in out
    assert [l.split()[1] for l in out.split("\n") if "rx:crc4_errors" in l] == ["1"]
    assert (tmp_path / "p.bin").stat().st_size == len(raw)


def test_e1_decode_all_zeros_is_los_and_short_file_refused(tmp_path, capsys):
    (tmp_path / "z.bin").write_bytes(bytes(5120 * 2))
    e1_decode.main([str(tmp_path / "z.bin")])
    assert "Receiver has LOS" in capsys.readouterr().out
    (tmp_path / "s.bin").write_bytes(bytes(100))
    assert e1_decode.main([str(tmp_path / "s.bin")]) == 2
    assert "less than one 20 ms block" in capsys.readouterr().err


@pytest.mark.parametrize("framing", ["esf", "sf"])
def test_t1_decode_reports_alignment_counters_and_robbed_bits(tmp_path, capsys, framing):
    from callbox.line import T1Tx
    rng = random.Random(2)
    tx = T1Tx(framing=framing)
    tx.set_rbs(True)
    tx.set_abcd(5, 0b1010)
    raw = bytearray(b"".join(bytes(tx.frame(bytes(rng.randrange(256) for _ in range(24 * 160))))
                             for _ in range(20)))
    raw = raw[77:]                                                      # start anywhere in a frame
    (tmp_path / "t1.bin").write_bytes(bytes(raw))
    assert t1_decode.main(["--framing", framing, "--rbs", "--payload", str(tmp_path / "p.bin"),
                           str(tmp_path / "t1.bin")]) == 0
    out = capsys.readouterr().out
    assert "T1 (%s) is up" % framing.upper() in out and "No alarms detected." in out
    assert " 5:1010 " in out and " 6:1111 " in out and " 24:1111 " in out
    assert [l.split()[1] for l in out.split("\n") if "crc6_errors" in l] == ["0"]
    (tmp_path / "z.bin").write_bytes(bytes(193 * 100))
    t1_decode.main([str(tmp_path / "z.bin")])
    assert "Receiver has LOS" in capsys.readouterr().out
    (tmp_path / "s.bin").write_bytes(bytes(100))
    assert t1_decode.main([str(tmp_path / "s.bin")]) == 2
    assert "less than 8 frames" in capsys.readouterr().err


def test_e1_decode_reads_sa_bits_and_the_cas_multiframe(tmp_path, capsys):
    from callbox.line import Cas
    tx, cas = E1Tx(), Cas()
    tx.set_sa("01011")
    blocks = []
    for b in range(8):
        frames = bytearray(5120)
        if b == 4:
            cas.set_tx(1, 0b0011)          # timeslot 1 seized (China: 0011)
            cas.set_tx(30, 0b1101)         # channel 30 = timeslot 31
        blocks.append(bytes(tx.frame(cas.insert(frames))))
    (tmp_path / "cas.bin").write_bytes(b"".join(blocks))
    assert e1_decode.main(["--cas", str(tmp_path / "cas.bin")]) == 0
    out = capsys.readouterr().out
    assert "Sa4-Sa8 received: 01011" in out
    assert "CAS multiframe aligned, 0 MFAS errors" in out
    assert [l for l in out.split("\n") if "ABCD ts" in l][-1].endswith("ABCD ts 1=0011 31=1101")
    assert " 1:0011  2:1001" in out and "31:1101" in out and "No alarms detected." in out
    # the same capture read without --cas: TS16 is payload to it, the Sa bits still come
    assert e1_decode.main([str(tmp_path / "cas.bin")]) == 0
    out = capsys.readouterr().out
    assert "Sa4-Sa8 received: 01011" in out and "ABCD" not in out


def test_e1_decode_without_a_cas_multiframe_reports_cas_lomf(tmp_path, capsys):
    rng = random.Random(5)
    tx = E1Tx()
    raw = b"".join(bytes(tx.frame(bytes(rng.randrange(1, 256) for _ in range(5120)))) for _ in range(4))
    (tmp_path / "nocas.bin").write_bytes(raw)
    e1_decode.main(["--cas", str(tmp_path / "nocas.bin")])
    out = capsys.readouterr().out
    assert "Receiver has CAS_LOMF" in out and "CAS multiframe NOT aligned" in out
