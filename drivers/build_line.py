"""cffi builder for callbox._line (out-of-line API mode): E1 framing, HDLC, TDM, PRBS, line codes.

setup.py finds it through cffi_modules=["drivers/build_line.py:ffibuilder"] (paths
relative to the project root, as setuptools wants). Run directly, it compiles only
this module into firmware/callbox/ (absolute paths, any working directory):

    python drivers/build_line.py

The cdef is read from the public headers below (declarations only), so they stay the
one place the C API is written. Compiler flags: tools/cffi_build.py (-O2 -std=c11
-Wall -Wextra).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cffi_build import compile_in_place, make_builder  # noqa: E402

HEADERS = ["line.h", "e1.h", "t1.h", "cas.h", "hdlc.h", "tdm.h", "prbs.h", "linecode.h"]
SOURCES = ["line.c", "e1.c", "t1.c", "cas.c", "hdlc.c", "tdm.c", "prbs.c", "linecode.c"]


def builder(absolute=False):
    """The FFI builder of callbox._line.

    Args:
        absolute (bool): absolute source paths (direct compile) instead of paths
            relative to the project root (setuptools).

    Returns:
        cffi.FFI: ready for compile() or for setuptools.
    """
    return make_builder("_line", HERE, HEADERS, SOURCES, absolute)


ffibuilder = builder()

if __name__ == "__main__":
    compile_in_place(builder(absolute=True), "_line", HERE)
