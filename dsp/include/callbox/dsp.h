/*
 * callbox DSP: G.711, DTMF receiver bank, tone generator bank.
 *
 * What does it do
 *   G.711 A-law and mu-law conversion (ITU-T G.711, bit-exact), a DTMF receiver
 *   for many channels at once (ITU-T Q.23/Q.24) and a tone generator for many
 *   channels (DTMF digits, call-progress tones with cadences).
 *
 * How does it work
 *   Everything works on blocks: one call per 20 ms (160 samples) handles every
 *   channel of a bank. Input and output are caller-owned arrays laid out channel-
 *   major (channel 0's block, then channel 1's ...). State lives in opaque bank
 *   structs; the library keeps no mutable globals.
 *
 *   The DTMF receiver runs Goertzel filters for the eight DTMF frequencies over
 *   blocks of 102 samples (12.75 ms), state carried across calls. A block is a
 *   candidate digit when: the strongest row and column tones each exceed
 *   MIN_LEVEL_DBM0 (-42 dBm0); the twist is within 8 dB normal / 4 dB reverse
 *   (plus a measurement margin); each tone beats the others of its group by 6 dB;
 *   the two tones carry at least half of the block's energy; and both halves of
 *   the block carry it (within 1.5 dB), so a block the tone only partly covers is
 *   no candidate. A digit is accepted after two consecutive candidate blocks with
 *   the same digit whose frequencies, measured over both blocks together (204
 *   samples, complex Goertzel results joined), beat bins at +-5 %: a tone must be
 *   within about +-2.5 % of nominal. It is released after two blocks without it
 *   of which one is nearly silent (a 40 ms pause always holds two; a 10 ms break
 *   never makes one), or after four bad blocks.
 *   Measured (tests/dsp/test_dtmf.py): 40 ms accepted at every block phase, 20 ms
 *   and shorter rejected at every phase, 23 ms rejected at ~90 % of phases; +-1.5 %
 *   accepted 99.8 %, +-3.5 % and +-5 % rejected 100 %. Q.24 (AT&T column): operate
 *   within +-1.5 %, not beyond +-3.5 %; levels 0 .. -25 dBm0 (we go to -36),
 *   non-operate -55 dBm0; >= 40 ms operate, <= 23 ms non-operate. Issue #3 closes
 *   the 23 ms gap and adds the talk-off corpus.
 *
 * Levels: a full-scale sine is +3.14 dBm0 in A-law and +3.17 dBm0 in mu-law
 * (G.711), so in 16-bit linear a 0 dBm0 sine has a peak of 32768 * 10^(-3.14/20)
 * = 22865 (A-law reference, used for generation).
 */
#ifndef CALLBOX_DSP_H
#define CALLBOX_DSP_H

#include <stddef.h>
#include <stdint.h>

#define CB_DSP_OK        0
#define CB_DSP_EINVAL   -1   /* bad argument */
#define CB_DSP_ENOMEM   -2   /* allocation failed */
#define CB_DSP_EFULL    -3   /* queue or output array full */

const char *cb_dsp_strerror(int code);

/* G.711: n samples; may not overlap. */
void cb_alaw_to_linear(const uint8_t *in, int16_t *out, size_t n);
void cb_linear_to_alaw(const int16_t *in, uint8_t *out, size_t n);
void cb_ulaw_to_linear(const uint8_t *in, int16_t *out, size_t n);
void cb_linear_to_ulaw(const int16_t *in, uint8_t *out, size_t n);
/* Mean power of n linear samples, sum(x^2)/n (caller converts to dBm0). */
double cb_mean_power(const int16_t *in, size_t n);

/* DTMF receiver bank */
typedef struct cb_dtmf_rx_bank_s cb_dtmf_rx_bank_t;
typedef struct {
    int chan;      /* channel index in the bank */
    char digit;    /* '0'-'9', '*', '#', 'A'-'D' */
    int offset;    /* sample offset, within this call's block, where the digit was accepted */
} cb_dtmf_event_t;

cb_dtmf_rx_bank_t *cb_dtmf_rx_bank_new(int nchan);
void cb_dtmf_rx_bank_free(cb_dtmf_rx_bank_t *b);
int cb_dtmf_rx_reset(cb_dtmf_rx_bank_t *b, int chan);
/* Process nsamp samples of every channel (channel-major); returns the number of events
 * written to ev (at most max_ev), or a negative CB_DSP_E* code. */
int cb_dtmf_rx(cb_dtmf_rx_bank_t *b, const int16_t *in, int nsamp, cb_dtmf_event_t *ev, int max_ev);

/* Tone generator bank */
typedef struct cb_tone_bank_s cb_tone_bank_t;
cb_tone_bank_t *cb_tone_bank_new(int nchan);
void cb_tone_bank_free(cb_tone_bank_t *b);
/* Queue DTMF digits: level of the low-group tone in dBm0, twist = high - low in dB. */
int cb_tone_dtmf(cb_tone_bank_t *b, int chan, const char *digits, int on_ms, int off_ms,
                 double level_dbm0, double twist_db);
/* Play f1 (+ f2, 0 = none) at level_dbm0 per tone; cadence: ncad (on_ms, off_ms) pairs,
 * ncad = 0 means continuous; repeat != 0 loops the cadence. */
int cb_tone_play(cb_tone_bank_t *b, int chan, double f1, double f2, double level_dbm0,
                 const int *cadence_ms, int ncad, int repeat);
int cb_tone_stop(cb_tone_bank_t *b, int chan);
int cb_tone_active(const cb_tone_bank_t *b, int chan);
/* Fill nsamp samples of every channel (channel-major); idle channels get zeros. */
int cb_tone_generate(cb_tone_bank_t *b, int16_t *out, int nsamp);

#endif
