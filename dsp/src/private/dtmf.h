/* Private layout of the DTMF receiver and tone generator banks. */
#ifndef CALLBOX_DSP_PRIVATE_DTMF_H
#define CALLBOX_DSP_PRIVATE_DTMF_H
#include "callbox/dsp.h"

#define DTMF_BLOCK 102          /* Goertzel block: 12.75 ms at 8 kHz */
#define NBINS 24                /* 8 frequencies x (nominal, -5 %, +5 %) */

typedef struct {
	float s1[NBINS], s2[NBINS]; /* Goertzel state: 8 DTMF frequencies, then each -5 %, then +5 % */
	float pre[NBINS], pim[NBINS]; /* previous block's complex Goertzel result (for 2-block checks) */
	float energy;           /* sum of x^2 over the current block */
	float energy_half;      /* sum of x^2 over its first half */
	float held_energy;      /* block energy when the held digit was accepted */
	int pos;                /* samples into the current block */
	char candidate;         /* digit seen in the last block, 0 if none */
	char held;              /* accepted digit still present, 0 if none */
	int misses;             /* consecutive blocks without the held digit */
	int off_seen;           /* one of those blocks was nearly silent (a real pause) */
} cb_dtmf_chan_t;

struct cb_dtmf_rx_bank_s {
	int nchan;              /* channels in the bank */
	float coef[NBINS];      /* 2 cos(w) per bin, w = 2 pi f / 8000 */
	float cw[NBINS], sw[NBINS];   /* cos(w), sin(w) */
	float cwn[NBINS], swn[NBINS]; /* cos(w N), sin(w N): one block's phase advance */
	float min_power;        /* per-tone Goertzel power at the minimum level */
	cb_dtmf_chan_t *ch;     /* nchan channel states */
};

#define TONE_QUEUE 64
#define TONE_CAD 8

typedef struct {
	uint32_t ph1, ph2, inc1, inc2; /* phase accumulators and increments (2^32 = one cycle) */
	int amp1, amp2;         /* peak amplitudes */
	int mode;               /* 0 idle, 1 DTMF digits, 2 tone */
	char digits[TONE_QUEUE];/* DTMF digits still to send */
	int ndigits, idigit;    /* queued count, next index */
	int on, off;            /* DTMF on/off samples */
	double level, twist;    /* DTMF levels */
	int cad[2 * TONE_CAD];  /* tone cadence in samples (on, off pairs) */
	int ncad, icad;         /* cadence entries, current entry */
	int left;               /* samples left in the current on/off segment */
	int repeat;             /* loop the cadence */
	int sounding;           /* 1 in an on segment */
} cb_tone_chan_t;

struct cb_tone_bank_s {
	int nchan;              /* channels */
	cb_tone_chan_t *ch;     /* per-channel generators */
	int16_t sine[1024];     /* one cycle, full scale */
};
#endif
