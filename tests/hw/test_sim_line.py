"""The sim:// backend: a back-to-back pair carrying raw bits, with impairments."""
import os

import pytest

from callbox import hw
from callbox.errors import LineError, LineInitError
from callbox.hw.line import E1_BLOCK_BYTES


@pytest.fixture
def pair(tmp_path):
    far = hw.open_line("sim://pairT/1", sim_dir=str(tmp_path)).open()
    box = hw.open_line("sim://pairT/0", sim_dir=str(tmp_path)).open()
    yield box, far
    box.close()
    far.close()


def blocks(n, start=0):
    return [bytes((start + i + j) % 256 for j in range(E1_BLOCK_BYTES)) for i in range(n)]


def pump(tx, rx, data):
    out = bytearray(E1_BLOCK_BYTES)
    got = []
    for d in data:
        tx.write_block(d)
        if rx.read_block(out) == "ok":
            got.append(bytes(out))
    for _ in range(4):
        if rx.read_block(out) == "ok":
            got.append(bytes(out))
    return got


def test_blocks_cross_in_order_both_ways(pair):
    box, far = pair
    data = blocks(5)
    assert pump(far, box, data) == data
    assert pump(box, far, data[::-1]) == data[::-1]


def test_bit_offset_shifts_the_stream(tmp_path):
    far = hw.open_line("sim://pairO/1?offset=3", sim_dir=str(tmp_path)).open()
    box = hw.open_line("sim://pairO/0", sim_dir=str(tmp_path)).open()
    data = blocks(4)
    got = pump(far, box, data)
    stream_in = int.from_bytes(b"".join(data[:3]), "big")
    stream_out = int.from_bytes(b"".join(got[:3]), "big")
    nbits = 3 * E1_BLOCK_BYTES * 8
    # output = input delayed by 3 bits (first 3 bits are the zero history)
    assert stream_out == stream_in >> 3
    assert nbits == len(b"".join(got[:3])) * 8
    box.close()
    far.close()


def test_los_ais_and_ber_impairments(pair):
    box, far = pair
    far.impair(ais=True)
    assert set(b"".join(pump(far, box, blocks(3)))) == {0xFF}
    far.impair(ais=False, ber=1e-3)
    data = blocks(3)
    got = pump(far, box, data)
    flipped = sum(bin(a ^ b).count("1") for x, y in zip(data, got) for a, b in zip(x, y))
    assert 20 < flipped < 250            # ~123 expected at 1e-3 over 122880 bits
    far.impair(los=True, ber=0)
    assert set(b"".join(pump(far, box, data))) == {0}
    with pytest.raises(ValueError):
        far.impair(ber=0.9)


def test_receive_side_faults_are_seen_by_this_end_only(pair):
    box, far = pair
    box.impair(los=True, side="rx")
    data = blocks(3)
    assert set(b"".join(pump(far, box, data))) == {0}          # the box hears nothing
    assert pump(box, far, data) == data                         # what it sends is untouched
    box.impair(los=False, ber=1e-3, side="rx")
    got = pump(far, box, data)
    flipped = sum(bin(a ^ b).count("1") for x, y in zip(data, got) for a, b in zip(x, y))
    assert 20 < flipped < 250
    box.impair(ber=0, ais=True, side="rx")
    assert set(b"".join(pump(far, box, data))) == {0xFF}
    with pytest.raises(ValueError, match="slips and counted FAS/CRC errors are injected on the transmitting side"):
        box.impair(slip=1, side="rx")
    with pytest.raises(ValueError, match="side 'up'"):
        box.impair(los=True, side="up")


def test_unplugged_cable_reads_los_and_reconnects(tmp_path):
    box = hw.open_line("sim://pairU/0", sim_dir=str(tmp_path)).open()
    out = bytearray(b"\x55" * E1_BLOCK_BYTES)
    assert box.read_block(out) == "los" and out == bytes(E1_BLOCK_BYTES)
    far = hw.open_line("sim://pairU/1", sim_dir=str(tmp_path)).open()
    assert box.read_block(out) == "none"      # plugged in: connected, nothing received yet
    data = blocks(3)
    assert pump(far, box, data) == data
    far.close()
    assert box.read_block(out) == "los"
    box.close()


@pytest.mark.parametrize("url,msg", [
    ("sim://pairA/2", "end '/2'"),
    ("sim://pa ir/0", "pair name"),
    ("sim://pairA/0?bogus=1", "unknown option"),
    ("sim://pairA/0?ber=2", "ber 2"),
    ("nosuch://x/0", "scheme 'nosuch' not known"),
    ("pairA", "not a backend URL"),
])
def test_bad_urls_are_refused_with_the_reason(url, msg, tmp_path):
    with pytest.raises(LineInitError, match=msg):
        hw.open_line(url, sim_dir=str(tmp_path))


def test_raw_backend_names_device_and_refuses_impairment(tmp_path):
    ln = hw.open_line("raw:///dev/callbox-no-such-device")
    with pytest.raises(LineInitError, match="callbox-no-such-device"):
        ln.open()
    with pytest.raises(LineError, match="only simulated spans"):
        ln.impair(los=True)


def test_raw_backend_moves_blocks_through_a_fifo(tmp_path):
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    ln = hw.open_line("raw://" + path).open()
    out = bytearray(E1_BLOCK_BYTES)
    assert ln.read_block(out) == "none"
    ln.write_block(bytes(range(256)) * 20)
    assert ln.read_block(out) == "ok" and out[:4] == b"\x00\x01\x02\x03"
    ln.close()
