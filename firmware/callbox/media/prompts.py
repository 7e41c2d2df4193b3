"""Prompts: the box's recorded announcements, kept as A-law in memory.

Prompts live in ``<data>/prompts/<name>.wav`` (8 kHz mono, 16-bit PCM or
A-law). A fresh box has none recorded, so ``ensure_default_prompts`` writes a
minimal synthetic set (chimes and tone patterns, clearly not speech) that lets
the IVR answer sensibly; spoken Mandarin/English prompts are the call-centre
issue's work (#6).
"""
import math
import os
import re
import struct
import wave

from callbox import dsp
from callbox.errors import ConfigError

NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
RATE = 8000


def _tone_seq(parts):
    """[(freq_hz or 0, ms, amplitude)] -> int16 samples."""
    out = []
    for f, ms, amp in parts:
        n = RATE * ms // 1000
        for i in range(n):
            env = min(1.0, i / 80.0, (n - i) / 80.0)
            out.append(int(amp * env * math.sin(2 * math.pi * f * i / RATE)) if f else 0)
    return out


DEFAULTS = {
    # name: a tone sequence standing in for the spoken prompt
    "welcome": [(660, 150, 6000), (0, 50, 0), (880, 150, 6000), (0, 50, 0), (990, 300, 6000), (0, 300, 0)],
    "menu": [(523, 200, 5000), (0, 100, 0), (659, 200, 5000), (0, 500, 0)],
    "queue": [(392, 300, 4000), (0, 200, 0), (494, 300, 4000), (0, 200, 0), (587, 300, 4000), (0, 700, 0)],
    "invalid": [(300, 400, 6000), (0, 200, 0)],
    "goodbye": [(880, 200, 6000), (660, 200, 6000), (0, 200, 0)],
}


def write_wav(path, samples):
    """Write int16 samples as an 8 kHz mono PCM WAV (atomically: temp file + rename)."""
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack("<%dh" % len(samples), *samples))
    os.replace(tmp, path)


def ensure_default_prompts(prompt_dir):
    """Create the default prompt files that are missing. Returns the names written."""
    os.makedirs(prompt_dir, exist_ok=True)
    made = []
    for name, parts in DEFAULTS.items():
        path = os.path.join(prompt_dir, name + ".wav")
        if not os.path.exists(path):
            write_wav(path, _tone_seq(parts))
            made.append(name)
    return made


def load_prompt(path):
    """Read a WAV prompt and return it as A-law bytes.

    Raises:
        ConfigError: the file is not an 8 kHz mono 16-bit PCM WAV.
    """
    try:
        with wave.open(path, "rb") as w:
            if w.getnchannels() != 1 or w.getframerate() != RATE or w.getsampwidth() != 2:
                raise ConfigError("Loading prompt %s: need 8000 Hz mono 16-bit PCM, got %d Hz, %d channel(s), %d-bit"
                                  % (path, w.getframerate(), w.getnchannels(), 8 * w.getsampwidth()))
            pcm = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError) as e:
        raise ConfigError("Loading prompt %s: %s" % (path, e)) from None
    import array
    samples = array.array("h")
    samples.frombytes(pcm)
    return bytes(dsp.linear_to_alaw(samples))


def load_prompts(prompt_dir):
    """All prompts of a directory: {name: A-law bytes}. Bad files are reported, not fatal."""
    out, errors = {}, []
    if not os.path.isdir(prompt_dir):
        return out, errors
    for fn in sorted(os.listdir(prompt_dir)):
        name, ext = os.path.splitext(fn)
        if ext != ".wav" or not NAME.match(name):
            continue
        try:
            out[name] = load_prompt(os.path.join(prompt_dir, fn))
        except ConfigError as e:
            errors.append(str(e))
    return out, errors


class PromptPlayer:
    """Plays one A-law prompt into a channel, 160 octets a tick."""

    def __init__(self, name, data, loop=False):
        self.name = name
        self.data = data
        self.pos = 0
        self.loop = loop
        self.done = False

    def next(self, n=160):
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        if len(chunk) < n:
            if self.loop and self.data:
                self.pos = n - len(chunk)
                chunk = chunk + self.data[:self.pos]
            else:
                self.done = True
                chunk = chunk + bytes([dsp.ALAW_SILENCE]) * (n - len(chunk))
        return chunk
