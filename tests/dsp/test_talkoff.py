"""DTMF talk-off: no digits from speech (espeak-ng, several voices and languages including
Mandarin), almost none from synthetic music, band-limited and G.711-coded as on a trunk.

The measured rate of false digits per hour of speech is printed; the assertion allows none on
this corpus (the Bellcore talk-off tapes allow a good receiver a few hundred over far more
speech; a short corpus must show none)."""
import array
import math
import random
import shutil
import subprocess
import wave

import pytest

from callbox import dsp
from callbox.dsp import DtmfReceiverBank
from callbox.tools.make_prompts import _resample

TEXTS = {
    "cmn": "您好，欢迎致电客户服务中心。请问有什么可以帮您？我的账单好像有问题，上个月多扣了三十块钱。"
           "请您提供一下手机号码和身份证后四位，我帮您查询一下。",
    "en-gb": "Hello, thank you for calling. I would like to check my last bill, it seems I was charged twice "
             "for the same service. Could you please give me your account number and date of birth?",
    "en-us": "One two three four five six seven eight nine zero. Star, pound, hash. The quick brown fox jumps "
             "over the lazy dog while the telephone keeps ringing in the busy call centre.",
    "yue": "你好，我想查詢一下我嘅賬單，點解今個月收費咁貴？",
    "de": "Guten Tag, ich möchte meine Rechnung überprüfen. Die Nummer ist neun acht sieben sechs fünf.",
    "fr-fr": "Bonjour, je voudrais parler à un conseiller au sujet de mon contrat, merci beaucoup.",
    "es": "Buenos días, quisiera cambiar mi plan de datos y consultar el saldo de mi cuenta, por favor.",
    "ru": "Здравствуйте, я хотел бы узнать остаток на счёте и подключить новый тариф.",
    "ja": "こんにちは、料金プランについてお伺いしたいのですが、よろしいでしょうか。",
}


def speech(voice, text, speed):
    with subprocess.Popen(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as p:
        data = p.stdout.read()
    import io
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        pcm = array.array("h", w.readframes(w.getnframes()))
    return _resample(pcm, rate)


def music(seconds, seed):
    """Chords and melodies with harmonics, vibrato and sweeps: the content that talks DTMF off."""
    rng = random.Random(seed)
    out = array.array("h")
    notes = [220 * 2 ** (k / 12) for k in range(36)]
    t = 0
    while len(out) < 8000 * seconds:
        dur = rng.choice((0.12, 0.25, 0.5))
        chord = rng.sample(notes, rng.choice((1, 2, 3)))
        vib = rng.uniform(0, 6)
        n = int(8000 * dur)
        for i in range(n):
            tt = (t + i) / 8000
            v = 0.0
            for f in chord:
                f2 = f * (1 + 0.004 * math.sin(2 * math.pi * vib * tt))
                for h, amp in ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.15)):
                    if f2 * h < 3600:
                        v += amp * math.sin(2 * math.pi * f2 * h * tt)
            env = min(1.0, i / 80, (n - i) / 80)
            out.append(int(max(-32000, min(32000, 3000 * v * env))))
        t += n
    sweep = array.array("h", (int(8000 * math.sin(2 * math.pi * (300 * i / 8000 + 1500 * (i / 8000) ** 2 / 2)))
                              for i in range(8000 * 2)))
    return out + sweep


def digits_in(samples, law):
    """Run one receiver over samples after G.711 coding; returns the digits."""
    coded = dsp.linear_to_alaw(samples) if law == "alaw" else dsp.linear_to_ulaw(samples)
    lin = dsp.alaw_to_linear(bytes(coded)) if law == "alaw" else dsp.ulaw_to_linear(bytes(coded))
    rx = DtmfReceiverBank(1)
    got = []
    for i in range(0, len(lin) - 160 + 1, 160):
        got += [d for _, d, _ in rx.process(lin[i:i + 160], 160)]
    return got


def test_no_digits_from_speech_in_many_voices_and_languages(capsys):
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs Debian package espeak-ng")
    seconds, false = 0.0, []
    for voice, text in TEXTS.items():
        for speed, gain in ((130, 1.0), (175, 2.5), (220, 0.4)):
            s = speech(voice, text, speed)
            s = array.array("h", (max(-32768, min(32767, int(x * gain))) for x in s))
            seconds += len(s) / 8000
            for law in ("alaw", "ulaw"):
                got = digits_in(s, law)
                false += [(voice, speed, law, d) for d in got]
    per_hour = len(false) / (2 * seconds / 3600)
    with capsys.disabled():
        print("\ntalk-off: %.0f s of speech x 2 codings, %d false digits, %.1f per hour" %
              (seconds, len(false), per_hour))
    assert seconds > 120
    assert false == []


def test_music_talk_off_is_rare(capsys):
    """Dense synthetic chords on a chromatic scale put two notes on a DTMF pair now and then
    (784 + 1480 Hz is 1.8 % and 0.2 % from digit 6); the receiver takes one such chord in the
    42 s of music on each coding. A harmonic check in the receiver would remove even that."""
    m = music(40, seed=7)
    got = digits_in(m, "alaw") + digits_in(m, "ulaw")
    with capsys.disabled():
        print("\ntalk-off: 2 x 42 s of synthetic music, %d false digit(s): %s" % (len(got), "".join(got)))
    assert len(got) <= 2
