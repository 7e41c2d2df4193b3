"""Prompt sources and their order; the spoken default set made with espeak-ng."""
import array
import os
import shutil
import wave

import pytest

from callbox import dsp
from callbox.media.prompts import PromptSet, write_wav
from callbox.tools.make_prompts import TEXTS, en_number, make_prompts, zh_number


def _wav(path, value, n=800):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_wav(path, [value] * n)


def _level(ps, key):
    lin = array.array("h", bytes(2 * len(ps[key])))
    dsp.alaw_to_linear(ps[key], lin)
    return lin[0]


def test_search_order_data_lang_then_data_then_default_lang_then_tones(tmp_path):
    data, default = str(tmp_path / "data"), str(tmp_path / "share")
    _wav(os.path.join(default, "zh", "welcome.wav"), 1000)
    _wav(os.path.join(default, "en", "welcome.wav"), 2000)
    _wav(os.path.join(default, "zh", "menu.wav"), 3000)
    _wav(os.path.join(data, "menu.wav"), 4000)            # the admin's recording, every language
    _wav(os.path.join(data, "en", "goodbye.wav"), 5000)   # the admin's English goodbye
    ps, errors = PromptSet.load(data, [default])
    assert errors == []
    assert ps.resolve("welcome", "zh") == "zh/welcome"
    assert ps.resolve("welcome", "en") == "en/welcome"
    assert ps.resolve("en/welcome") == "en/welcome"
    assert ps.resolve("menu", "zh") == "menu" and _level(ps, "menu") == pytest.approx(4000, rel=0.05)
    assert ps.resolve("goodbye", "en") == "en/goodbye"
    assert ps.resolve("goodbye", "zh") == "goodbye"       # the synthetic tone stand-in
    assert ps.resolve("queue", "fr") == "queue"
    assert ps.resolve("nonexistent", "zh") is None
    assert ps.languages() == ["en", "zh"]


def test_a_bad_prompt_file_is_reported_and_the_rest_load(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.wav").write_bytes(b"RIFF not really")
    with wave.open(str(data / "stereo.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(3200))
    _wav(str(data / "ok.wav"), 100)
    ps, errors = PromptSet.load(str(data), [])
    assert "ok" in ps and "broken" not in ps and "stereo" not in ps
    assert len(errors) == 2 and any("need 8000 Hz mono 16-bit PCM" in e for e in errors)


def test_numbers_are_spoken_correctly():
    assert [zh_number(n) for n in (0, 7, 10, 12, 20, 35, 99)] == ["零", "七", "十", "十二", "二十", "三十五", "九十九"]
    assert [en_number(n) for n in (0, 13, 20, 42)] == ["zero", "thirteen", "twenty", "forty-two"]
    assert set(TEXTS["zh"]) == set(TEXTS["en"])


def test_espeak_makes_8khz_speech_for_both_languages(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs Debian package espeak-ng")
    n = make_prompts(str(tmp_path), names={"welcome", "num_7"})
    assert n == 4
    for lang in ("zh", "en"):
        with wave.open(str(tmp_path / lang / "welcome.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            frames = array.array("h", w.readframes(w.getnframes()))
        assert 1.0 < len(frames) / 8000 < 8.0
        assert max(abs(x) for x in frames) == pytest.approx(16384, abs=2)
        # speech, not silence: a good share of 20 ms blocks carry energy
        blocks = [frames[i:i + 160] for i in range(0, len(frames) - 160, 160)]
        loud = sum(1 for b in blocks if sum(x * x for x in b) / 160 > 300 ** 2)
        assert loud > len(blocks) * 0.3
    ps, errors = PromptSet.load(str(tmp_path / "nodata"), [str(tmp_path)])
    assert ps.resolve("welcome", "en") == "en/welcome" and ps.resolve("num_7", "zh") == "zh/num_7"
    assert make_prompts(str(tmp_path), names={"welcome"}) == 0      # already there: nothing rewritten
