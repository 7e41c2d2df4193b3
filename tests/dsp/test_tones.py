"""Tone generator bank: frequencies and levels measured on the output, cadences timed in samples."""
import array
import math

import pytest

from callbox import dsp
from callbox.errors import DspError

pytestmark = pytest.mark.args

PEAK0 = 32768 * 10 ** (-3.14 / 20)        # 0 dBm0 sine peak, A-law reference (G.711)
ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")


def goertzel(x, f):
    """|X(f)|^2 of the samples x."""
    c = 2 * math.cos(2 * math.pi * f / 8000)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def tone_dbm0(x, f):
    """Level in dBm0 of the component at f; exact for a tone at f over whole cycles of 1 Hz."""
    amp = 2 * math.sqrt(max(goertzel(x, f), 0.0)) / len(x)
    return 20 * math.log10(amp / PEAK0) if amp else -200.0


def energy(x):
    return sum(v * v for v in x)


def run(gen, nsamples, block=160):
    """Every channel's next nsamples samples, generated block by block: [array('h')] per channel."""
    chans = [array.array("h") for _ in range(gen.nchan)]
    out = array.array("h", bytes(2 * gen.nchan * block))
    for _ in range(nsamples // block):
        gen.generate(out, block)
        for ch in range(gen.nchan):
            chans[ch].extend(out[ch * block:(ch + 1) * block])
    return chans


def check_bursts(x, bursts):
    """bursts: [(start, length)] of sound; everything else must be exactly 0. A burst starts at
    phase zero (its first sample is 0), then never holds two zeros in a row, up to its last sample."""
    sound = bytearray(len(x))
    for s, n in bursts:
        seg = x[s:s + n]
        assert seg[0] == 0 and seg[1] != 0 and seg[-1] != 0, "burst at %d: %r ... %r" % (s, seg[:3], seg[-3:])
        assert not any(a == 0 and b == 0 for a, b in zip(seg[1:], seg[2:])), "a gap inside the burst at %d" % s
        sound[s:s + n] = b"\x01" * n
    assert all(v == 0 for v, on in zip(x, sound) if not on), "sound outside the bursts"


# -- DTMF ----------------------------------------------------------------------------------------

def test_dtmf_frequencies_levels_and_twist_measured_on_the_output():
    with dsp.ToneGeneratorBank(1) as gen:
        for d in "159D":
            for level, twist in ((-10.0, 0.0), (-6.0, 2.0), (-12.0, -4.0)):
                gen.send_dtmf(0, d, on_ms=1000, off_ms=0, level_dbm0=level, twist_db=twist)
                x, = run(gen, 8000)
                r = next(i for i, keys in enumerate(KEYS) if d in keys)
                c = KEYS[r].index(d)
                # high group at level_dbm0, low group at level_dbm0 - twist_db (twist = high - low)
                assert tone_dbm0(x, COLS[c]) == pytest.approx(level, abs=0.05)
                assert tone_dbm0(x, ROWS[r]) == pytest.approx(level - twist, abs=0.05)
                others = [f for f in ROWS + COLS if f not in (ROWS[r], COLS[c])]
                assert max(tone_dbm0(x, f) for f in others) < level - 60
                tones = (goertzel(x, ROWS[r]) + goertzel(x, COLS[c])) * 2 / len(x)
                assert tones / energy(x) > 0.9999, "the two tones must be all there is"
                assert not gen.active(0)


def test_dtmf_on_and_off_times_are_exact_to_the_sample():
    with dsp.ToneGeneratorBank(1) as gen:
        gen.send_dtmf(0, "0123456789*#ABCD", on_ms=50, off_ms=30)
        x = array.array("h")
        out = array.array("h", [0])
        while gen.active(0):
            gen.generate(out, 1)
            x.extend(out)
        assert len(x) == 16 * (50 + 30) * 8          # active() drops with the last off sample
        check_bursts(x, [(k * 640, 400) for k in range(16)])


def test_the_receiver_decodes_the_generators_digits_after_alaw():
    with dsp.ToneGeneratorBank(1) as gen, dsp.DtmfReceiverBank(1) as rx:
        gen.send_dtmf(0, "0123456789*#ABCD", on_ms=40, off_ms=40, level_dbm0=-25, twist_db=-3)
        got = []
        out = array.array("h", bytes(320))
        for _ in range(90):
            gen.generate(out, 160)
            got += [d for _, d, _ in rx.process(dsp.alaw_to_linear(dsp.linear_to_alaw(out)), 160)]
        assert "".join(got) == "0123456789*#ABCD"


def test_digits_queue_up_and_stop_drops_them():
    with dsp.ToneGeneratorBank(2) as gen:
        gen.send_dtmf(1, "12", on_ms=40, off_ms=10)
        gen.send_dtmf(1, "3", on_ms=20, off_ms=0)           # after the queued ones, with its own times
        _, x = run(gen, 1200, block=1200)
        check_bursts(x, [(0, 320), (400, 320), (800, 160)])
        assert not gen.active(1)
        gen.send_dtmf(1, "4" * 64)
        with pytest.raises(DspError, match="Queueing DTMF '5' on channel 1: the channel's queue is full"):
            gen.send_dtmf(1, "5")
        gen.stop(1)
        assert not gen.active(1) and run(gen, 160)[1] == array.array("h", bytes(320))
        gen.send_dtmf(1, "5")                                 # room again after stop()


# -- call-progress tones -------------------------------------------------------------------------

def test_tone_plans_hold_the_standard_frequencies_and_cadences():
    plans = dsp.TONE_PLANS
    assert set(plans) == {"cn", "eu", "us"}
    for plan in plans.values():
        assert set(plan) == {"dial", "ringback", "busy", "congestion"}
    table = {(p, t): (f1, f2, cad) for p, tones in plans.items() for t, (f1, f2, _, cad) in tones.items()}
    assert table == {
        ("cn", "dial"): (450, 0, None), ("cn", "ringback"): (450, 0, ((1000, 4000),)),
        ("cn", "busy"): (450, 0, ((350, 350),)), ("cn", "congestion"): (450, 0, ((700, 700),)),
        ("eu", "dial"): (425, 0, None), ("eu", "ringback"): (425, 0, ((1000, 4000),)),
        ("eu", "busy"): (425, 0, ((500, 500),)), ("eu", "congestion"): (425, 0, ((250, 250),)),
        ("us", "dial"): (350, 440, None), ("us", "ringback"): (440, 480, ((2000, 4000),)),
        ("us", "busy"): (480, 620, ((500, 500),)), ("us", "congestion"): (480, 620, ((250, 250),)),
    }
    assert [plans["us"][t][2] for t in ("dial", "ringback", "busy")] == [-13.0, -19.0, -24.0]


@pytest.mark.parametrize("plan,tone", [(p, t) for p in ("cn", "eu", "us")
                                       for t in ("dial", "ringback", "busy", "congestion")])
def test_every_plan_tone_has_its_frequencies_level_and_cadence(plan, tone):
    f1, f2, level, cadence = dsp.TONE_PLANS[plan][tone]
    on, off = cadence[0] if cadence else (2000, 0)
    period = (on + off) * 8
    with dsp.ToneGeneratorBank(1) as gen:
        gen.play_plan_tone(0, plan, tone)
        x, = run(gen, 2 * period + 1600)                     # two whole cycles and a bit
        assert gen.active(0)
    if off:
        check_bursts(x, [(0, on * 8), (period, on * 8), (2 * period, 1600)])
    else:
        assert not any(a == 0 and b == 0 for a, b in zip(x[1:], x[2:]))
    first_second = x[:8000] if on >= 1000 else x[:on * 8 // 400 * 400]      # whole cycles of 20 Hz
    for f in (f1, f2) if f2 else (f1,):
        assert tone_dbm0(first_second, f) == pytest.approx(level, abs=0.05), f
        if len(first_second) == 8000:                        # 1 Hz bins: the tone sits on one
            assert tone_dbm0(first_second, f + 1) < level - 60 and tone_dbm0(first_second, f - 1) < level - 60


def test_cadence_played_once_then_idle():
    with dsp.ToneGeneratorBank(1) as gen:
        gen.play_tone(0, 1000, 0, -10, cadence=[(100, 50), (200, 0), (0, 30), (60, 40)], repeat=False)
        x = array.array("h")
        out = array.array("h", [0] * 8)
        while gen.active(0):
            gen.generate(out, 8)
            x.extend(out)
        # 100 on, 50 off, 200 on, then 0 on + 30 off, 60 on, 40 off: 480 ms in all
        assert len(x) == 480 * 8
        check_bursts(x, [(0, 800), (1200, 1600), (3040, 480)])


def test_a_joined_on_period_does_not_restart_the_phase():
    with dsp.ToneGeneratorBank(2) as gen:
        gen.play_tone(0, 1000, 0, -10, cadence=[(30, 0)])           # joined bursts: one long tone
        gen.play_tone(1, 1000, 0, -10)
        a, b = run(gen, 1600)
        assert a == b


def test_channels_are_independent_and_channel_major():
    with dsp.ToneGeneratorBank(4) as gen:
        gen.play_plan_tone(0, "cn", "dial")
        gen.play_plan_tone(1, "us", "busy")
        gen.send_dtmf(3, "5", on_ms=1000)
        chans = run(gen, 8000)
    assert tone_dbm0(chans[0], 450) == pytest.approx(-10, abs=0.05)
    assert tone_dbm0(chans[1][:4000], 480) == pytest.approx(-24, abs=0.05) and not any(chans[1][4000:])
    assert chans[2] == array.array("h", bytes(16000)), "an idle channel gets zeros"
    assert tone_dbm0(chans[3], 770) == pytest.approx(-10, abs=0.05)
    assert tone_dbm0(chans[3], 1336) == pytest.approx(-10, abs=0.05)
    assert tone_dbm0(chans[0], 770) < -70 and tone_dbm0(chans[3], 450) < -70


def test_play_replaces_digits_and_digits_replace_a_tone():
    with dsp.ToneGeneratorBank(1) as gen:
        gen.send_dtmf(0, "123")
        gen.play_tone(0, 600, 0, -20)
        x, = run(gen, 8000)
        assert tone_dbm0(x, 600) == pytest.approx(-20, abs=0.05) and tone_dbm0(x, 697) < -70
        gen.send_dtmf(0, "9", on_ms=100, off_ms=0)
        x, = run(gen, 960)
        check_bursts(x, [(0, 800)])
        assert not gen.active(0)


# -- arguments -----------------------------------------------------------------------------------

def test_bad_arguments_are_refused_before_anything_changes():
    gen = dsp.ToneGeneratorBank(2)
    gen.play_plan_tone(0, "eu", "dial")
    with pytest.raises(ValueError, match="tone 'dial' of plan 'fr': plans are cn, eu, us, tones dial, ringback"):
        gen.play_plan_tone(0, "fr", "dial")
    with pytest.raises(ValueError, match="plans are"):
        gen.play_plan_tone(0, "us", "reorder")
    with pytest.raises(ValueError, match="chan 2 is outside 0..1"):
        gen.play_tone(2, 425, 0, -10)
    with pytest.raises(TypeError, match="chan must be an integer"):
        gen.stop("0")
    with pytest.raises(ValueError, match="f1 must be 1..3999 Hz"):
        gen.play_tone(0, 4000, 0, -10)
    with pytest.raises(ValueError, match="f2 must be 0 \\(none\\) or 1..3999 Hz"):
        gen.play_tone(0, 400, -5, -10)
    with pytest.raises(ValueError, match="outside -60 .. \\+3.14 dBm0"):
        gen.play_tone(0, 400, 0, 3.5)
    with pytest.raises(ValueError, match="beyond full scale"):
        gen.play_tone(0, 400, 500, 0)
    with pytest.raises(ValueError, match="1..16 \\(on_ms, off_ms\\) pairs"):
        gen.play_tone(0, 400, 0, -10, cadence=[])
    with pytest.raises(ValueError, match="1..16 \\(on_ms, off_ms\\) pairs"):
        gen.play_tone(0, 400, 0, -10, cadence=[(100, 100, 100)])
    with pytest.raises(ValueError, match="never sounds"):
        gen.play_tone(0, 400, 0, -10, cadence=[(0, 100)])
    with pytest.raises(ValueError, match="cadence time -1 is outside 0..60000"):
        gen.play_tone(0, 400, 0, -10, cadence=[(100, -1)])
    with pytest.raises(ValueError, match="need 1 or more of 0-9, \\*, #, A-D \\(not 'x'\\)"):
        gen.send_dtmf(0, "12x")
    with pytest.raises(ValueError, match="need 1 or more"):
        gen.send_dtmf(0, "")
    with pytest.raises(ValueError, match="on_ms 0 is outside 1..10000"):
        gen.send_dtmf(0, "1", on_ms=0)
    with pytest.raises(ValueError, match="beyond full scale"):
        gen.send_dtmf(0, "1", level_dbm0=-2.0)
    with pytest.raises(TypeError, match="level_dbm0 must be a number"):
        gen.send_dtmf(0, "1", level_dbm0="loud")
    out = array.array("h", bytes(2 * 320))
    with pytest.raises(ValueError, match="must hold 200 samples, got 320"):
        gen.generate(out, 100)
    with pytest.raises(TypeError, match="array\\('h'\\)"):
        gen.generate(bytearray(640), 160)
    x, = run(gen, 8000)[:1]                                  # channel 0 still plays its dial tone
    assert tone_dbm0(x, 425) == pytest.approx(-10, abs=0.05)
    gen.close()
    with pytest.raises(DspError, match="Generating tones: the tone generator bank is closed"):
        gen.generate(out, 160)
    assert str(gen) == "ToneGeneratorBank(nchan=2, closed)"
