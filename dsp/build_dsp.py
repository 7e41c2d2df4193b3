"""cffi builder for callbox._dsp (out-of-line API mode): G.711, DTMF, tones."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cffi_build import compile_in_place, make_builder  # noqa: E402


def builder(absolute=False):
    return make_builder("_dsp", HERE, ["dsp.h"], ["g711.c", "dtmf.c"], absolute, libraries=["m"])


ffibuilder = builder()

if __name__ == "__main__":
    compile_in_place(builder(absolute=True), "_dsp", HERE)
