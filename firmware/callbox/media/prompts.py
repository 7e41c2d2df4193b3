"""Prompts: the box's recorded announcements, kept as A-law in memory.

Where a prompt comes from, first match wins, for a call in language ``lang``:

1. ``<data>/prompts/<lang>/<name>.wav``  recorded or uploaded by the admin for one language;
2. ``<data>/prompts/<name>.wav``         recorded by the admin for every language;
3. ``<dir>/<lang>/<name>.wav`` in the default prompt directories: the spoken
   Mandarin (``zh``) and English (``en``) set made at build time by
   ``callbox-make-prompts`` (``$CALLBOX_PROMPTS``, else ``/usr/share/callbox/prompts``
   and, in a source tree, ``build/prompts``);
4. a synthetic tone pattern built in memory (``DEFAULTS``), so that a box without
   any speech still answers sensibly.

A name may carry its language (``en/welcome``); otherwise the call's language is used.
Files are 8 kHz mono 16-bit PCM WAV.
"""
import array
import math
import os
import re
import struct
import wave

from callbox import dsp
from callbox.errors import ConfigError

NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
LANG = re.compile(r"^[a-z]{2,3}$")
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
    "beep": [(1000, 400, 8000), (0, 100, 0)],     # the voicemail beep (a tone in every language)
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


def synthetic_prompts():
    """The tone-pattern stand-ins for the basic prompts: {name: int16 samples}."""
    return {name: _tone_seq(parts) for name, parts in DEFAULTS.items()}


def default_prompt_dirs():
    """The directories holding <lang>/<name>.wav default prompts, in the order searched."""
    env = os.environ.get("CALLBOX_PROMPTS")
    if env:
        return [d for d in env.split(os.pathsep) if d]
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = ["/usr/share/callbox/prompts"]
    tree = os.path.normpath(os.path.join(here, "..", "..", "..", "build", "prompts"))
    if os.path.isdir(tree):
        dirs.append(tree)
    return dirs


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
    samples = array.array("h")
    samples.frombytes(pcm)
    return bytes(dsp.linear_to_alaw(samples))


def load_prompts(prompt_dir, prefix=""):
    """All prompts of a directory: {prefix + name: A-law bytes}. Bad files are reported, not fatal."""
    out, errors = {}, []
    if not os.path.isdir(prompt_dir):
        return out, errors
    for fn in sorted(os.listdir(prompt_dir)):
        name, ext = os.path.splitext(fn)
        if ext != ".wav" or not NAME.match(name):
            continue
        try:
            out[prefix + name] = load_prompt(os.path.join(prompt_dir, fn))
        except ConfigError as e:
            errors.append(str(e))
    return out, errors


def _langs(d):
    return sorted(x for x in os.listdir(d) if LANG.match(x) and os.path.isdir(os.path.join(d, x))) \
        if os.path.isdir(d) else []


class PromptSet(dict):
    """{key: A-law bytes} where keys are ``name`` or ``lang/name``, with the search order of
    the module docstring in ``resolve``."""

    def __init__(self, items=None):
        super().__init__(items or {})
        self.data_keys = set()

    @classmethod
    def load(cls, data_prompt_dir, default_dirs=None):
        """Load every source; returns (PromptSet, [error strings])."""
        ps, errors = cls(), []
        for name, samples in synthetic_prompts().items():
            ps[name] = bytes(dsp.linear_to_alaw(array.array("h", samples)))
        for d in reversed(default_dirs if default_dirs is not None else default_prompt_dirs()):
            for lang in _langs(d):
                got, errs = load_prompts(os.path.join(d, lang), lang + "/")
                ps.update(got)
                errors += errs
        for lang in _langs(data_prompt_dir):
            got, errs = load_prompts(os.path.join(data_prompt_dir, lang), lang + "/")
            ps.update(got)
            ps.data_keys.update(got)
            errors += errs
        got, errs = load_prompts(data_prompt_dir)
        ps.update(got)
        ps.data_keys.update(got)
        errors += errs
        return ps, errors

    def resolve(self, name, lang=None):
        """The key to play for ``name`` in ``lang`` (None when there is no such prompt)."""
        if not isinstance(name, str):
            return None
        if "/" in name:
            lang, _, name = name.partition("/")
        candidates = []
        if lang:
            candidates.append((lang + "/" + name, True))
        candidates.append((name, True))
        if lang:
            candidates.append((lang + "/" + name, False))
        candidates.append((name, False))
        for key, from_data in candidates:
            if key in self and (key in self.data_keys) == from_data:
                return key
        return None

    def languages(self):
        return sorted({k.split("/", 1)[0] for k in self if "/" in k})


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
