"""cffi builder for callbox._dsp (out-of-line API mode): G.711, DTMF, tones."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)




CDEF = """
const char *cb_dsp_strerror(int code);
void cb_alaw_to_linear(const uint8_t *in, int16_t *out, size_t n);
void cb_linear_to_alaw(const int16_t *in, uint8_t *out, size_t n);
void cb_ulaw_to_linear(const uint8_t *in, int16_t *out, size_t n);
void cb_linear_to_ulaw(const int16_t *in, uint8_t *out, size_t n);
double cb_mean_power(const int16_t *in, size_t n);
typedef struct cb_dtmf_rx_bank_s cb_dtmf_rx_bank_t;
typedef struct { int chan; char digit; int offset; } cb_dtmf_event_t;
cb_dtmf_rx_bank_t *cb_dtmf_rx_bank_new(int nchan);
void cb_dtmf_rx_bank_free(cb_dtmf_rx_bank_t *b);
int cb_dtmf_rx_reset(cb_dtmf_rx_bank_t *b, int chan);
int cb_dtmf_rx(cb_dtmf_rx_bank_t *b, const int16_t *in, int nsamp, cb_dtmf_event_t *ev, int max_ev);
typedef struct cb_tone_bank_s cb_tone_bank_t;
cb_tone_bank_t *cb_tone_bank_new(int nchan);
void cb_tone_bank_free(cb_tone_bank_t *b);
int cb_tone_dtmf(cb_tone_bank_t *b, int chan, const char *digits, int on_ms, int off_ms,
                 double level_dbm0, double twist_db);
int cb_tone_play(cb_tone_bank_t *b, int chan, double f1, double f2, double level_dbm0,
                 const int *cadence_ms, int ncad, int repeat);
int cb_tone_stop(cb_tone_bank_t *b, int chan);
int cb_tone_active(const cb_tone_bank_t *b, int chan);
int cb_tone_generate(cb_tone_bank_t *b, int16_t *out, int nsamp);
"""



def make_builder(absolute=False):
    """The FFI builder; setuptools needs paths relative to the project root, a direct
    compile (below) absolute ones."""
    def path(*parts):
        p = os.path.join(HERE, *parts)
        return p if absolute else os.path.relpath(p, ROOT)

    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        "callbox._dsp",
        '#include "callbox/dsp.h"',
        sources=[path("src", f) for f in ("g711.c", "dtmf.c")],
        include_dirs=[path("include"), path("src")],
        extra_compile_args=["-O2", "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra"], libraries=["m"],
    )
    return ffi


ffibuilder = make_builder()

if __name__ == "__main__":
    # Development shortcut: build only this module, in place, without pip.
    import glob
    import shutil
    tmp = os.path.join(ROOT, "build", "cffi_dsp")
    make_builder(absolute=True).compile(tmpdir=tmp, verbose=False)
    for so in glob.glob(os.path.join(tmp, "**", "_dsp*.so"), recursive=True):
        shutil.copy(so, os.path.join(ROOT, "firmware", "callbox", os.path.basename(so)))
        print("built", os.path.basename(so))
