"""cffi builder for callbox._dsp (out-of-line API mode): G.711, DTMF receiver bank, tone generator bank.

setuptools (`pip install -e .` in the repository root) imports this file and uses
`ffibuilder`, whose sources are relative to the root; `python dsp/build_dsp.py` builds
the module in place with absolute paths. The cdef is read from the public headers.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cffi_build import compile_in_place, make_builder  # noqa: E402

HEADERS = ["dsp.h", "g711.h", "dtmf.h", "tone.h", "mix.h", "r2mf.h", "cpt.h"]
SOURCES = ["dsp.c", "g711.c", "dtmf.c", "tone.c", "mix.c", "r2mf.c", "cpt.c"]


def builder(absolute=False):
    return make_builder("_dsp", HERE, HEADERS, SOURCES, absolute, libraries=["m"])


ffibuilder = builder()

if __name__ == "__main__":
    compile_in_place(builder(absolute=True), "_dsp", HERE)
