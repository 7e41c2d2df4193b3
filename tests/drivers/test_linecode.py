"""Line codes: substitutions as G.703 defines them, round trips, BPV and EXZ counting."""
import random

import pytest

from callbox.line import LineCoder


def bits_to_bytes(bits):
    bits = bits + [0] * (-len(bits) % 8)
    return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def encode(code, bits):
    """All symbols for bits: ones are appended to push out what the encoder holds back."""
    flushed = bits + [1] * 8
    return list(LineCoder(code).encode(bits_to_bytes(flushed), len(flushed)))[:len(bits)]


def test_ami_alternates():
    assert encode("ami", [1, 0, 1, 1, 0, 1]) == [1, 0, -1, 1, 0, -1]


def test_b8zs_after_plus_is_000plus_minus_0_minus_plus():
    assert encode("b8zs", [1] + [0] * 8 + [1]) == [1, 0, 0, 0, 1, -1, 0, -1, 1, -1]


def test_hdb3_000v_after_odd_and_b00v_after_even_pulses():
    # one mark (odd) then 4 zeros: 000V with V = + (same as the mark)
    assert encode("hdb3", [1, 0, 0, 0, 0, 1, 0, 0, 0, 0] + [1, 0, 0, 0])[:10] == [1, 0, 0, 0, 1, -1, 0, 0, 0, -1]
    # two marks (even) then 4 zeros: B00V; B alternates, V = B
    assert encode("hdb3", [1, 1, 0, 0, 0, 0, 1, 0, 0, 0])[:6] == [1, -1, 1, 0, 0, 1]


@pytest.mark.parametrize("code,maxzeros", [("hdb3", 3), ("b8zs", 7)])
def test_no_long_zero_runs_and_violations_alternate(code, maxzeros):
    rng = random.Random(2)
    bits = [rng.choice([0, 0, 0, 1]) for _ in range(20000)]
    sym = encode(code, bits)
    s = "".join("+" if x > 0 else "-" if x < 0 else "0" for x in sym)
    assert "0" * (maxzeros + 1) not in s
    assert abs(sum(sym)) <= 2                       # no DC build-up


@pytest.mark.parametrize("code", ["ami", "hdb3", "b8zs"])
def test_round_trip_random_and_zero_heavy_data(code):
    rng = random.Random(3)
    bits = [rng.choice([0, 1]) for _ in range(5000)] + [0] * 100 + [rng.choice([0, 0, 0, 0, 1]) for _ in range(5000)]
    flushed = bits + [1] * 16               # ones push out the encoder's and decoder's look-ahead
    dec = LineCoder(code)
    got = dec.decode(LineCoder(code).encode(bits_to_bytes(flushed), len(flushed)))
    assert list(got[:len(bits)]) == bits
    c = dec.counters()
    assert c["rx:bpv"] == 0
    if code != "ami":
        assert c["rx:exz"] == 0 and c["rx:substitutions"] > 10
    else:
        assert c["rx:exz"] >= 1                     # 100 zeros in AMI are excess zeros


def test_bipolar_violation_and_excess_zeros_counted():
    dec = LineCoder("hdb3")
    dec.decode([1, -1, 1, 1, -1, 0, 0, 0, 0, 0, 1, -1, 1, -1])
    c = dec.counters()
    assert c["rx:bpv"] == 1 and c["rx:exz"] == 1 and c["rx:lcv"] == 2
    with pytest.raises(ValueError, match="ami, hdb3, b8zs"):
        LineCoder("2b1q")
