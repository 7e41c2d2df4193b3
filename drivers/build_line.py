"""cffi builder for callbox._line (out-of-line API mode): E1 framing, HDLC, TDM."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CDEF = """
#define CB_LINE_OK       0
#define CB_LINE_EINVAL  -1   
#define CB_LINE_ENOMEM  -2   
#define CB_LINE_EFULL   -3   
const char *cb_line_strerror(int code);
typedef struct {
	int los, ais, lof, rai, aligned;
} cb_e1_status_t;
typedef struct {
	uint64_t frames;        
	uint64_t fas_errors;    
	uint64_t nfas_errors;   
	uint64_t realignments;  
	uint64_t slips;         
	uint64_t los_events;    
	uint64_t ais_events;    
} cb_e1_counters_t;
typedef struct cb_e1_tx_s cb_e1_tx_t;
typedef struct cb_e1_rx_s cb_e1_rx_t;
cb_e1_tx_t *cb_e1_tx_new(void);
void cb_e1_tx_free(cb_e1_tx_t *t);
void cb_e1_tx_set_rai(cb_e1_tx_t *t, int on);
int cb_e1_tx_frame(cb_e1_tx_t *t, const uint8_t *in, uint8_t *out, int nframes);
cb_e1_rx_t *cb_e1_rx_new(void);
void cb_e1_rx_free(cb_e1_rx_t *r);
int cb_e1_rx_deframe(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes);
void cb_e1_rx_status(const cb_e1_rx_t *r, cb_e1_status_t *st);
void cb_e1_rx_counters(const cb_e1_rx_t *r, cb_e1_counters_t *c);
void cb_e1_rx_reset_counters(cb_e1_rx_t *r);
typedef struct {
	uint64_t rx_frames, rx_fcs_errors, rx_aborts, rx_too_long, rx_too_short, tx_frames;
} cb_hdlc_counters_t;
typedef struct {
	int chan;       
	int offset;     
	int len;        
} cb_hdlc_frame_t;
typedef struct cb_hdlc_bank_s cb_hdlc_bank_t;
cb_hdlc_bank_t *cb_hdlc_bank_new(int nchan, int max_frame);
void cb_hdlc_bank_free(cb_hdlc_bank_t *b);
int cb_hdlc_rx(cb_hdlc_bank_t *b, const uint8_t *in, int n, uint8_t *buf, int cap,
	       cb_hdlc_frame_t *fr, int max_fr);
int cb_hdlc_send(cb_hdlc_bank_t *b, int chan, const uint8_t *data, int len);
int cb_hdlc_tx(cb_hdlc_bank_t *b, uint8_t *out, int n);
int cb_hdlc_counters(const cb_hdlc_bank_t *b, int chan, cb_hdlc_counters_t *c);
void cb_tdm_deinterleave(const uint8_t *frames, uint8_t *chans, int n);
void cb_tdm_interleave(const uint8_t *chans, uint8_t *frames, int n);
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
        "callbox._line",
        '#include "callbox/line.h"',
        sources=[path("src", f) for f in ("e1.c", "hdlc.c")],
        include_dirs=[path("include"), path("src")],
        extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
    )
    return ffi


ffibuilder = make_builder()

if __name__ == "__main__":
    # Development shortcut: build only this module, in place, without pip.
    import glob
    import shutil
    tmp = os.path.join(ROOT, "build", "cffi_line")
    make_builder(absolute=True).compile(tmpdir=tmp, verbose=False)
    for so in glob.glob(os.path.join(tmp, "**", "_line*.so"), recursive=True):
        shutil.copy(so, os.path.join(ROOT, "firmware", "callbox", os.path.basename(so)))
        print("built", os.path.basename(so))
