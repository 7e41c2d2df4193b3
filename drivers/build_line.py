"""cffi builder for callbox._line (out-of-line API mode): E1 framing, HDLC, TDM."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cffi_build import compile_in_place, make_builder  # noqa: E402


def builder(absolute=False):
    return make_builder("_line", HERE, ["line.h", "prbs.h", "linecode.h"], ["e1.c", "hdlc.c", "prbs.c", "linecode.c"],
                        absolute)


ffibuilder = builder()

if __name__ == "__main__":
    compile_in_place(builder(absolute=True), "_line", HERE)
