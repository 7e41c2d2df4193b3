"""MFC/R2 register signals (Q.441): every signal of both sets, levels, twist, frequency offset,
noise, G.711 coding, and no signal from DTMF, single tones or the other set."""
import array
import math
import random

import pytest

from callbox import dsp
from callbox.dsp import R2MFReceiverBank, ToneGeneratorBank, r2mf_pair

N = 160


def tone_samples(f1, f2, level1, level2, ms, offset_hz=0.0, noise_dbm0=None, seed=1):
    rng = random.Random(seed)
    a1 = dsp.PEAK_0DBM0 * 10 ** (level1 / 20.0)
    a2 = dsp.PEAK_0DBM0 * 10 ** (level2 / 20.0)
    n = 8 * ms
    sigma = dsp.PEAK_0DBM0 / math.sqrt(2) * 10 ** (noise_dbm0 / 20.0) if noise_dbm0 is not None else 0.0
    out = []
    for i in range(n):
        v = a1 * math.sin(2 * math.pi * (f1 + offset_hz) * i / 8000) + \
            (a2 * math.sin(2 * math.pi * (f2 + offset_hz) * i / 8000 + 1.0) if f2 else 0.0)
        if sigma:
            v += rng.gauss(0, sigma)
        out.append(max(-32768, min(32767, int(v))))
    return out


def run(samples, backward=False):
    rx = R2MFReceiverBank(1)
    rx.set_backward(0, backward)
    events = []
    padded = samples + [0] * (8 * 200)                # then silence: the stop
    for i in range(0, len(padded) - N + 1, N):
        events += [(sig, i + off) for _, sig, off in rx.process(array.array("h", padded[i:i + N]), N)]
    return events


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("signal", range(1, 16))
def test_every_signal_starts_and_stops(signal, backward):
    f1, f2 = r2mf_pair(signal, backward)
    ev = run(tone_samples(f1, f2, -11, -11, 150), backward)
    assert [s for s, _ in ev] == [signal, 0]
    start, stop = ev[0][1], ev[1][1]
    assert start < 8 * 60 and 8 * 150 < stop < 8 * 220          # decided within a few blocks


@pytest.mark.parametrize("level", [-5, -20, -33])
def test_levels_detected(level):
    f1, f2 = r2mf_pair(5)
    assert [s for s, _ in run(tone_samples(f1, f2, level, level, 120))] == [5, 0]


def test_too_weak_is_not_a_signal():
    f1, f2 = r2mf_pair(5)
    assert run(tone_samples(f1, f2, -45, -45, 120)) == []


def test_twist_and_frequency_offset():
    f1, f2 = r2mf_pair(9)
    assert [s for s, _ in run(tone_samples(f1, f2, -10, -16, 120))] == [9, 0]      # 6 dB twist accepted
    assert run(tone_samples(f1, f2, -8, -20, 120)) == []                             # 12 dB rejected
    for off in (-10, 10):
        assert [s for s, _ in run(tone_samples(f1, f2, -11, -11, 120, offset_hz=off))] == [9, 0]


def test_noise_and_alaw_coding():
    f1, f2 = r2mf_pair(12, True)
    noisy = tone_samples(f1, f2, -11, -11, 150, noise_dbm0=-31)       # 20 dB SNR per tone
    assert [s for s, _ in run(noisy, True)] == [12, 0]
    coded = list(dsp.alaw_to_linear(bytes(dsp.linear_to_alaw(array.array("h", tone_samples(f1, f2, -11, -11, 150))))))
    assert [s for s, _ in run(coded, True)] == [12, 0]


def test_not_from_dtmf_single_tones_or_the_other_set():
    assert run(tone_samples(770, 1336, -8, -8, 150)) == []            # DTMF 5
    assert run(tone_samples(1477, 941, -8, -8, 150)) == []            # DTMF #
    assert run(tone_samples(1500, 0, -8, -8, 150)) == []              # one forward tone only
    f1, f2 = r2mf_pair(3, True)
    assert run(tone_samples(f1, f2, -11, -11, 150), backward=False) == []
    assert run(tone_samples(425, 0, -10, -10, 300)) == []             # dial tone


def test_generator_and_receiver_together_on_many_channels():
    tones = ToneGeneratorBank(4)
    rx = R2MFReceiverBank(4)
    for ch, sig in enumerate((1, 7, 11, 15)):
        f1, f2 = r2mf_pair(sig, ch % 2 == 1)
        rx.set_backward(ch, ch % 2 == 1)
        tones.play_tone(ch, f1, f2, -11.0)
    buf = array.array("h", bytes(2 * 4 * N))
    seen = []
    for _ in range(10):
        tones.generate(buf, N)
        seen += rx.process(buf, N)
    assert sorted((ch, sig) for ch, sig, _ in seen) == [(0, 1), (1, 7), (2, 11), (3, 15)]
    with pytest.raises(ValueError):
        r2mf_pair(16)
