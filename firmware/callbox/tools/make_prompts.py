"""callbox-make-prompts: the box's default spoken prompts, in Mandarin and English.

Run at build time (``make prompts``, and by the Buildroot package on the build
host): each text below is spoken by espeak-ng (Debian package ``espeak-ng``),
resampled to 8 kHz, normalised to a peak of -6 dBFS and written as
``<out>/<lang>/<name>.wav`` (8 kHz mono 16-bit PCM, the format the media daemon
loads). Admins replace any of them by uploading a recording of the same name.

Usage: callbox-make-prompts --out DIR [--lang zh,en] [--force]
"""
import argparse
import array
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave

from callbox.media.prompts import RATE, write_wav

VOICES = {"zh": "cmn", "en": "en-gb"}

_ZH_DIGITS = "零一二三四五六七八九"


def zh_number(n):
    """0..99 as spoken Mandarin characters."""
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")


def en_number(n):
    small = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen").split()
    if n < 20:
        return small[n]
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()[n // 10 - 2]
    return tens + ("-" + small[n % 10] if n % 10 else "")


TEXTS = {
    "zh": {
        "welcome": "您好，欢迎致电客户服务中心。",
        "menu": "业务咨询请按1，账单查询请按2，人工服务请按0。",
        "queue": "您的来电正在排队，请稍候，我们将尽快为您服务。",
        "invalid": "对不起，您的输入有误，请重新输入。",
        "goodbye": "感谢您的来电，再见。",
        "connecting": "正在为您转接人工服务，请稍候。",
        "position_before": "您前面还有",
        "position_after": "位客户在等待。",
        "ewt_before": "预计等待时间约",
        "ewt_after": "分钟。",
        "callback_offer": "如需保留排队位置并由我们回拨，请按1。",
        "callback_confirm": "我们将按排队顺序回拨您的来电号码，再见。",
        "voicemail": "现在无人接听，请在提示音后留言，结束请按井号键。",
        "voicemail_saved": "您的留言已保存，再见。",
        "survey": "请为本次服务评分：满意请按1，一般请按2，不满意请按3。",
        "survey_thanks": "感谢您的评价，再见。",
        "enter_number": "请输入号码，以井号键结束。",
        "closed": "现在是非工作时间，请在工作时间再拨。",
        "incident": "我们正在处理一项网络故障，给您带来不便，敬请谅解。",
        "for_english": "",
    },
    "en": {
        "welcome": "Hello, and welcome to the customer service centre.",
        "menu": "For enquiries, press 1. For your bill, press 2. To speak to an agent, press 0.",
        "queue": "All our agents are busy. Please hold, and we will be with you shortly.",
        "invalid": "Sorry, that is not a valid choice. Please try again.",
        "goodbye": "Thank you for calling. Goodbye.",
        "connecting": "Connecting you to an agent.",
        "position_before": "You are number",
        "position_after": "in the queue.",
        "ewt_before": "Your expected wait is about",
        "ewt_after": "minutes.",
        "callback_offer": "To keep your place and be called back, press 1.",
        "callback_confirm": "We will call you back at this number when it is your turn. Goodbye.",
        "voicemail": "Nobody can take your call right now. Please leave a message after the tone, "
                     "and press hash when you have finished.",
        "voicemail_saved": "Your message has been saved. Goodbye.",
        "survey": "Please rate our service. Press 1 if you were satisfied, 2 if it was fair, or 3 if not.",
        "survey_thanks": "Thank you for your feedback. Goodbye.",
        "enter_number": "Please enter the number, followed by the hash key.",
        "closed": "We are closed now. Please call again during our opening hours.",
        "incident": "We are working on a network fault. We are sorry for the inconvenience.",
        "for_english": "For English, press 9.",
    },
}
for _n in range(100):
    TEXTS["zh"]["num_%d" % _n] = zh_number(_n)
    TEXTS["en"]["num_%d" % _n] = en_number(_n)


def _fir(rate, cutoff, taps=63):
    """Hamming-windowed sinc low-pass taps, unity gain at DC."""
    fc = cutoff / rate
    half = taps // 2
    h = []
    for k in range(taps):
        m = k - half
        sinc = 2 * fc if m == 0 else math.sin(2 * math.pi * fc * m) / (math.pi * m)
        h.append(sinc * (0.54 - 0.46 * math.cos(2 * math.pi * k / (taps - 1))))
    g = sum(h)
    return [x / g for x in h]


def _resample(samples, rate_in):
    """Low-pass at 3.6 kHz, then resample to 8 kHz (a build-time tool, not the box's media path)."""
    h = _fir(rate_in, 3600.0)
    half = len(h) // 2
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop
    except ImportError:              # Python >= 3.13: slow but correct
        x = list(samples)
        n = len(x)
        pre = [sum(h[j - i + half] * x[j] for j in range(max(0, i - half), min(n, i + half + 1))) for i in range(n)]
        step = rate_in / RATE
        return array.array("h", (max(-32768, min(32767, int(pre[int(i * step)]))) for i in range(int(n / step))))
    # the FIR as len(h) shifted, scaled copies summed in C (input halved so sums cannot clip)
    pad = bytes(2 * half)
    x = pad + audioop.mul(samples.tobytes(), 2, 0.5) + pad
    n = len(samples)
    acc = bytes(2 * n)
    for k, hk in enumerate(h):
        acc = audioop.add(acc, audioop.mul(x[2 * k:2 * (k + n)], 2, hk), 2)
    out, _ = audioop.ratecv(acc, 2, 1, rate_in, RATE, None)
    return array.array("h", out)


def speak(text, lang, espeak="espeak-ng"):
    """Speak ``text`` with espeak-ng; return 8 kHz int16 samples normalised to -6 dBFS peak."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.wav")
        subprocess.run([espeak, "-v", VOICES[lang], "-s", "150", "-w", path, text], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with wave.open(path, "rb") as w:
            rate = w.getframerate()
            pcm = array.array("h", w.readframes(w.getnframes()))
    out = _resample(pcm, rate)
    peak = max((abs(s) for s in out), default=0)
    if peak:
        g = 16384.0 / peak
        out = array.array("h", (int(s * g) for s in out))
    return out


def make_prompts(out_dir, langs=("zh", "en"), force=False, progress=None, espeak="espeak-ng", names=None):
    """Write every missing prompt (all with ``force``; only ``names`` if given). Returns the number written.

    Raises:
        FileNotFoundError: espeak-ng is not installed.
    """
    if shutil.which(espeak) is None:
        raise FileNotFoundError("espeak-ng is not installed (Debian package espeak-ng)")
    jobs = [(lang, name, text) for lang in langs for name, text in sorted(TEXTS[lang].items())
            if text and (names is None or name in names)]
    written = 0
    for i, (lang, name, text) in enumerate(jobs):
        d = os.path.join(out_dir, lang)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name + ".wav")
        if force or not os.path.exists(path):
            write_wav(path, speak(text, lang, espeak))
            written += 1
        if progress:
            progress(i + 1, len(jobs))
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(prog="callbox-make-prompts", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="directory to write <lang>/<name>.wav into")
    ap.add_argument("--lang", default="zh,en", help="languages, comma-separated (default zh,en)")
    ap.add_argument("--force", action="store_true", help="rewrite prompts that exist")
    a = ap.parse_args(argv)
    langs = [x for x in a.lang.split(",") if x]
    bad = [x for x in langs if x not in TEXTS]
    if bad:
        print("error: unknown language(s) %s; known: %s" % (", ".join(bad), ", ".join(TEXTS)), file=sys.stderr)
        return 2

    def progress(done, total):
        if sys.stderr.isatty() or done == total or done % 40 == 0:
            sys.stderr.write("\rprompts: %d/%d" % (done, total) + ("\n" if done == total or not sys.stderr.isatty()
                                                                   else ""))
    try:
        n = make_prompts(a.out, langs, a.force, progress)
    except FileNotFoundError as e:
        print("error: %s; the box falls back to tone prompts" % e, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print("error: espeak-ng failed: %s" % (e.stderr or b"").decode(errors="replace").strip(), file=sys.stderr)
        return 1
    print("%d prompt(s) written to %s" % (n, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
