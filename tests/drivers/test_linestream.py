"""The bit-level line API (feed any number of bits, read frames with their start bit, state and
counters) and the ``python -m callbox.line`` commands, on streams these tests build: the
expected start bits, payloads and states come from how each stream was made, not from the
deframer."""
import json
import os
import random
import subprocess
import sys

import pytest

from callbox.line import Cas, E1Tx, LineCoder, T1Tx
from callbox.linestream import COUNTER_KEYS, STATE_KEYS, LineReceiver, LineTransmitter, main

FIRMWARE = os.path.join(os.path.dirname(__file__), "..", "..", "firmware")


def bits_of(data):
    return "".join(format(b, "08b") for b in data)


def pack(bitstr):
    pad = (-len(bitstr)) % 8
    return int(bitstr + "0" * pad, 2).to_bytes((len(bitstr) + pad) // 8, "big") if bitstr else b""


def feed_in_chunks(rx, bitstr, rng, most=900):
    pos = 0
    while pos < len(bitstr):
        n = rng.randrange(1, most)
        piece = bitstr[pos:pos + n]
        rx.feed(pack(piece), len(piece))
        pos += n


def e1_stream(rng, nframes, crc4=True, ts_payload=None):
    tx = E1Tx(crc4=crc4)
    frames = bytearray(rng.randbytes(32 * nframes))
    if ts_payload:
        ts_payload(frames)
    return bytes(tx.frame(frames)), bytes(frames)


@pytest.mark.parametrize("drop", [0, 3, 131, 255])
def test_e1_frames_carry_their_start_bit_whatever_the_chunking(drop):
    rng = random.Random(drop)
    raw, payload = e1_stream(rng, 800)
    bitstr = bits_of(raw)[drop:]                          # the capture starts `drop` bits late
    rx = LineReceiver("e1", "crc4")
    feed_in_chunks(rx, bitstr, rng)
    frames = rx.read_frames()
    assert rx.state()["frame_sync"] and rx.state()["crc4_mf_sync"]
    assert set(rx.state()) == set(STATE_KEYS) and set(COUNTER_KEYS) <= set(rx.counters())
    assert len(frames) > 700
    for start, octets in frames:
        k, phase = divmod(start + drop, 256)
        assert phase == 0, "a frame starts on a frame boundary of the sent stream"
        assert octets[1:] == payload[32 * k + 1:32 * k + 32]     # TS1..TS31 as sent
    assert [s for s, _ in frames] == list(range(frames[0][0], frames[0][0] + 256 * len(frames), 256))
    # the same bits in one call give the same frames
    one = LineReceiver("e1", "crc4")
    one.feed(pack(bitstr), len(bitstr))
    assert one.read_frames() == frames
    assert rx.counters()["fas_errors"] == rx.counters()["crc4_errors"] == 0


def test_bits_short_of_a_frame_time_wait_for_the_next_feed():
    rng = random.Random(2)
    raw, _ = e1_stream(rng, 64)
    rx = LineReceiver("e1", "nocrc4")
    assert rx.feed(raw[:100], 7) == 0 and rx.bits_in == 7
    rx.feed(raw[:1], 1)                                    # 8 bits: still short of 256
    assert rx.read_frames() == [] and not rx.state()["frame_sync"]
    with pytest.raises(ValueError, match="nbits 9 is not 0..8"):
        rx.feed(b"\x00", 9)
    with pytest.raises(TypeError, match="bytes-like"):
        rx.feed("text", 8)


def fas_imitation(frames):
    """TS5 imitates TS0: a FAS (x0011011) in every even frame, bit 2 = 1 in every odd one."""
    for f in range(len(frames) // 32):
        frames[32 * f + 5] = 0x1B if f % 2 == 0 else 0x40


def test_a_spurious_fas_is_left_after_8_ms_without_a_multiframe_but_kept_without_crc4():
    rng = random.Random(3)
    raw, _ = e1_stream(rng, 400, ts_payload=fas_imitation)
    bitstr = bits_of(raw)[24:]            # starts after TS0: the imitation in TS5 comes first
    basic = LineReceiver("e1", "nocrc4")
    basic.feed(pack(bitstr), len(bitstr))
    starts = [s for s, _ in basic.read_frames()]
    assert starts and all((s + 24) % 256 == 40 for s in starts), "without CRC-4 the imitation holds"
    for framing in ("crc4", "auto"):
        rx = LineReceiver("e1", framing)
        rx.feed(pack(bitstr), len(bitstr))
        frames = rx.read_frames()
        assert rx.state()["crc4_mf_sync"], framing
        real = [s for s, _ in frames if (s + 24) % 256 == 0]
        spurious = [s for s, _ in frames if (s + 24) % 256 == 40]
        assert spurious and real and max(spurious) < min(real)
        # G.706 4.2: the re-search starts within 8 ms (64 frames) of the false alignment
        assert min(real) - min(spurious) <= 256 * (64 + 8)
        assert rx.counters()["realignments"] >= 1


def test_a_non_crc4_far_end_is_interworked_after_400_ms_in_auto_only():
    rng = random.Random(4)
    raw, _ = e1_stream(rng, 4400, crc4=False)             # 550 ms without CRC-4
    auto = LineReceiver("e1", "auto")
    auto.feed(raw)
    st = auto.state()
    assert st["frame_sync"] and st["crc4_interworking_noncrc"] and not st["crc4_mf_sync"]
    # from then on basic alignment is kept: frames keep coming without a gap
    tail = [s for s, _ in auto.read_frames()][-500:]
    assert tail == list(range(tail[0], tail[0] + 256 * 500, 256))
    strict = LineReceiver("e1", "crc4")
    strict.feed(raw)
    assert not strict.state()["crc4_interworking_noncrc"] and not strict.state()["crc4_mf_sync"]
    assert strict.counters()["realignments"] >= 40, "strict CRC-4 searches again every 8 ms, for ever"


def test_cas_multiframe_and_remote_multiframe_alarm_in_the_state():
    cas = Cas()
    cas.set_tx(1, 0b0011)
    cas.set_remote_alarm(True)
    tx = E1Tx()
    raw = b"".join(bytes(tx.frame(cas.insert(bytearray(5120)))) for _ in range(3))
    rx = LineReceiver("e1", "nocrc4")
    rx.feed(raw)
    st = rx.state()
    assert st["cas_mf_sync"] and st["RMAI"] and rx.abcd()[1] == 0b0011 and rx.abcd()[31] == 0b1001


@pytest.mark.parametrize("framing", ["esf", "sf"])
def test_t1_frames_are_25_octets_f_bit_first(framing):
    rng = random.Random(5)
    tx = T1Tx(framing)
    payload = rng.randbytes(24 * 8 * 60)
    raw = bytes(tx.frame(payload))
    bitstr = bits_of(raw)[77:]
    rx = LineReceiver("t1", framing)
    feed_in_chunks(rx, bitstr, rng, most=3000)
    frames = rx.read_frames()
    st = rx.state()
    assert st["frame_sync"] and st["superframe_sync"] and not st["RAI"]
    assert len(frames) > 300
    for start, octets in frames:
        k, phase = divmod(start + 77, 193)
        assert phase == 0 and len(octets) == 25
        assert octets[0] == int(bits_of(raw)[193 * k]) and octets[1:] == payload[24 * k:24 * k + 24]
    assert rx.counters()["fbit_errors"] == rx.counters()["crc6_errors"] == 0


def test_ternary_input_counts_bpv_and_exz():
    rng = random.Random(6)
    raw, _ = e1_stream(rng, 160)
    sym = LineCoder("hdb3").encode(raw)
    sym[5000] = -sym[5000] if sym[5000] else 1            # one code violation
    rx = LineReceiver("e1", "crc4", linecode="hdb3")
    rx.feed_symbols(sym)
    assert rx.counters()["bpv"] >= 1 and rx.state()["frame_sync"]
    with pytest.raises(ValueError, match="no line code"):
        LineReceiver("e1", "crc4").feed_symbols([1, 0, -1])


def test_transmitter_state_and_round_trip():
    with LineTransmitter("e1", "crc4") as tx:
        tx.set_rai(True)
        tx.set_sa("10101")
        tx.set_abcd(17, 0b1101)
        raw = tx.frame(bytes(32 * 160))
        assert tx.state() == {"RAI": True, "crc4": True, "sa": "10101", "cas": True}
        assert tx.counters() == {"frames": 160}
        with pytest.raises(ValueError, match="1-15 or 17-31"):
            tx.set_abcd(16, 1)
    rx = LineReceiver("e1", "crc4")
    rx.feed(raw)
    assert rx.state()["RAI"] and rx.abcd()[17] == 0b1101
    with pytest.raises(ValueError, match="framing 'esf' is not one of"):
        LineReceiver("e1", "esf")
    with pytest.raises(ValueError, match="line type 'j1'"):
        LineTransmitter("j1", "esf")


# ---------------------------------------------------------------- the commands

def run_cli(*args):
    p = subprocess.run([sys.executable, "-m", "callbox.line"] + list(args), capture_output=True, text=True,
                       cwd=FIRMWARE, timeout=120)
    return p.returncode, [json.loads(x) for x in p.stdout.splitlines()], p.stderr


def test_deframe_command_prints_status_every_n_bits_and_frames(tmp_path):
    rng = random.Random(7)
    def pri_idle_ts16(frames):            # TS16 as a PRI D-channel at rest (flags), not CAS
        for f in range(len(frames) // 32):
            frames[32 * f + 16] = 0x7E
    raw, payload = e1_stream(rng, 320, ts_payload=pri_idle_ts16)
    (tmp_path / "e1.bin").write_bytes(raw)
    rc, lines, err = run_cli("deframe", "--type", "e1", "--framing", "crc4", "--sample-bits", "10000",
                             "--frames", str(tmp_path / "e1.bin"))
    assert rc == 0, err
    status = [x for x in lines if x["type"] == "status"]
    assert [x["bit"] for x in status] == list(range(10000, 81920, 10000)) + [81920]
    assert status[-1]["state"]["frame_sync"] and status[-1]["state"]["crc4_mf_sync"] and status[-1]["alarms"] == []
    assert not status[0]["state"]["frame_sync"] or status[0]["bit"] >= 768
    frames = [x for x in lines if x["type"] == "frame"]
    assert frames[0]["start"] % 256 == 0
    k = frames[0]["start"] // 256
    assert bytes.fromhex(frames[0]["octets"])[1:] == payload[32 * k + 1:32 * k + 32]
    assert lines[-1]["type"] == "end" and lines[-1]["bits"] == 81920


def test_frame_then_deframe_and_linecode_commands(tmp_path):
    rng = random.Random(8)
    payload = rng.randbytes(24 * 480)
    (tmp_path / "p.bin").write_bytes(payload)
    rc, lines, err = run_cli("frame", "--type", "t1", "--framing", "esf", "--rai", str(tmp_path / "p.bin"),
                             str(tmp_path / "t1.bin"))
    assert rc == 0 and lines[0]["frames"] == 480 and lines[0]["state"]["RAI"], err
    rc, lines, err = run_cli("deframe", "--type", "t1", "--framing", "esf", "--frames", str(tmp_path / "t1.bin"))
    got = b"".join(bytes.fromhex(x["octets"])[1:] for x in lines if x["type"] == "frame")
    assert rc == 0 and got and got in payload
    rc, lines, err = run_cli("frame", "--type", "e1", "--framing", "nocrc4", "--linecode", "hdb3",
                             str(tmp_path / "p.bin"), str(tmp_path / "e1.sym"))
    assert rc == 0 and lines[0]["format"] == "ternary"
    rc, lines, err = run_cli("linecode", "--decode", "hdb3", str(tmp_path / "e1.sym"), "--out",
                             str(tmp_path / "e1.bits"))
    assert rc == 0 and lines[0]["bpv"] == 0 and lines[0]["bits"] > 0
    rc, lines, err = run_cli("deframe", "--type", "e1", "--framing", "nocrc4", "--linecode", "hdb3",
                             str(tmp_path / "e1.sym"))
    assert rc == 0 and lines[-2]["state"]["frame_sync"] and lines[-2]["counters"]["bpv"] == 0


def test_commands_explain_bad_input(tmp_path, capsys):
    assert main(["deframe", "--type", "e1", "--framing", "esf", str(tmp_path / "x")]) == 2
    assert "E1 framing 'esf' is not one of" in capsys.readouterr().err
    assert main(["deframe", "--type", "t1", "--framing", "esf", str(tmp_path / "missing.bin")]) == 2
    err = capsys.readouterr().err
    assert "bit file" in err and "missing.bin: No such file or directory" in err
    (tmp_path / "bad.sym").write_bytes(bytes([1, 0, 2, 0xFF]))
    assert main(["linecode", "--decode", "ami", str(tmp_path / "bad.sym")]) == 2
    assert "symbol 2 at offset 2 is not -1, 0 or +1" in capsys.readouterr().err
    (tmp_path / "p.bin").write_bytes(bytes(33))
    assert main(["frame", "--type", "e1", "--framing", "crc4", str(tmp_path / "p.bin"), str(tmp_path / "o")]) == 2
    assert "33 octets is not whole 32-octet frames" in capsys.readouterr().err
    assert main(["frame", "--type", "t1", "--framing", "esf", "--sa", "11111", str(tmp_path / "p.bin"),
                 str(tmp_path / "o")]) == 2
    assert "Sa bits are E1's" in capsys.readouterr().err
    # garbage of any length never crashes the deframer
    (tmp_path / "junk.bin").write_bytes(random.Random(9).randbytes(12345))
    for t, f in (("e1", "auto"), ("t1", "sf")):
        assert main(["deframe", "--type", t, "--framing", f, "--sample-bits", "777", str(tmp_path / "junk.bin")]) == 0
        out = capsys.readouterr().out.splitlines()
        assert json.loads(out[-1])["bits"] == 12345 * 8
