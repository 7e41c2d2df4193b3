"""cffi builder for callbox._dsp (placeholder while the DSP library is written)."""
import os
from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ffibuilder = FFI()
ffibuilder.cdef("int cb_dsp_version(void);")
ffibuilder.set_source("callbox._dsp", "int cb_dsp_version(void) { return 1; }")

if __name__ == "__main__":
    # Development shortcut: build only this module, in place, without pip.
    import glob
    import shutil
    tmp = os.path.join(HERE, "..", "build", "cffi_dsp")
    ffibuilder.compile(tmpdir=tmp, verbose=False)
    for so in glob.glob(os.path.join(tmp, "**", "_dsp*.so"), recursive=True):
        shutil.copy(so, os.path.join(HERE, "..", "firmware", "callbox", os.path.basename(so)))
        print("built", os.path.basename(so))
