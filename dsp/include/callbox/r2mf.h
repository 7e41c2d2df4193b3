/*
 * MFC/R2 multi-frequency signals (ITU-T Q.441): a receiver bank for compelled signalling.
 *
 * What does it do
 *   Detects the 2-out-of-6 signals of MFC/R2 register signalling on many channels at once,
 *   forward (1380, 1500, 1620, 1740, 1860, 1980 Hz) or backward (1140, 1020, 900, 780, 660,
 *   540 Hz) per channel, and reports when a signal starts (its number 1..15) and when it
 *   stops (signal 0): compelled signalling acts on both edges.
 *
 * How does it work
 *   Goertzel filters on the six frequencies over blocks of 133 samples (16.6 ms, a 60 Hz
 *   resolution, so +-10 Hz senders fall well inside). A block holds a signal when the two
 *   strongest tones are each at least -35 dBm0, within 7 dB of each other, the third is at
 *   least 11 dB below the weaker of the two, and the two carry at least 70 % of the block's
 *   energy (which keeps speech, DTMF and call-progress tones out). A start is reported after
 *   two blocks in a row hold the same signal; a stop after two blocks in a row hold none.
 *   Signal n is the pair (f0 f1, f0 f2, f1 f2, f0 f3, f1 f3, f2 f3, f0 f4, f1 f4, f2 f4,
 *   f3 f4, f0 f5, f1 f5, f2 f5, f3 f5, f4 f5) for n = 1..15, f0 the first frequency of the set.
 */
#ifndef CALLBOX_R2MF_H
#define CALLBOX_R2MF_H

#include <stdint.h>

#include "callbox/dsp.h"

typedef struct cb_r2mf_bank_s cb_r2mf_bank_t;

typedef struct {
	int chan;
	int signal;             /* 1..15 started, 0 stopped */
	int offset;             /* sample of the block where it was decided */
} cb_r2mf_event_t;

int cb_r2mf_bank_new(cb_r2mf_bank_t **bank, int nchan);
void cb_r2mf_bank_free(cb_r2mf_bank_t *bank);
/* Which set a channel listens for: 0 forward (the backward register hears it), 1 backward. */
int cb_r2mf_set_backward(cb_r2mf_bank_t *bank, int chan, int backward);
int cb_r2mf_reset(cb_r2mf_bank_t *bank, int chan);
/* The most events one call over nsamples can return. */
int cb_r2mf_max_events(const cb_r2mf_bank_t *bank, int nsamples);
/* Run every channel over its next nsamples samples (channel-major, like the DTMF bank);
 * returns the number of events written, CB_ESPACE when max_events is too small. */
int cb_r2mf_process(cb_r2mf_bank_t *bank, const int16_t *in, int nsamples, cb_r2mf_event_t *events,
		    int max_events);
/* The two frequencies of signal 1..15 in a set: returns 0 or CB_EINVAL. */
int cb_r2mf_pair(int signal, int backward, double *f1, double *f2);

#endif
