/* Private layout of the DTMF receiver bank (callbox/dtmf.h). */
#ifndef CALLBOX_PRIVATE_DTMF_H
#define CALLBOX_PRIVATE_DTMF_H

#include "callbox/dtmf.h"

#define DTMF_BLOCK 102          /* Goertzel block: 12.75 ms, bins 78.4 Hz apart */
#define DTMF_HALF 51            /* first half: its own result, for the rough frequency */
#define DTMF_TONES 8            /* 4 row (low group) + 4 column (high group) frequencies */

/* One receiver. */
typedef struct {
	float s1[DTMF_TONES];       /* Goertzel state s[n-1] per tone */
	float s2[DTMF_TONES];       /* Goertzel state s[n-2] per tone */
	float half_re[DTMF_TONES];  /* complex result after the block's first half */
	float half_im[DTMF_TONES];
	float prev_re[DTMF_TONES];  /* complex result of the previous whole block */
	float prev_im[DTMF_TONES];
	float prev_power[DTMF_TONES]; /* |X|^2 of the previous block */
	float prev_energy;          /* sum of x^2 over the previous block */
	float energy;               /* sum of x^2 over the current block so far */
	int pos;                    /* samples into the current block */

	int run_row, run_col;       /* tones of the digit the last blocks were candidates for; -1 none */
	int run_blocks;             /* consecutive candidate blocks for it */
	int run_pair_ok;            /* two consecutive candidates of it passed the strict checks */
	int run_accepted;           /* this run already produced its event */
	float run_sum;              /* sum of the pair amplitude over the candidate blocks */
	float run_max;              /* the largest of them */
	float run_lead;             /* pair amplitude in the block before the run */
	float run_max_row, run_max_col; /* largest amplitude of each tone in the run */

	int held_row, held_col;     /* tones of the accepted digit still present; -1 none */
	float ref_row, ref_col;     /* their amplitudes when accepted (updated while the run lasts) */
	int absent;                 /* consecutive blocks with a held tone 14 dB down */
} cb_dtmf_chan_t;

struct cb_dtmf_bank_s {
	int nchan;                  /* channels in the bank */
	float coef[DTMF_TONES];     /* 2 cos(w), w = 2 pi f / 8000 */
	float cos_w[DTMF_TONES], sin_w[DTMF_TONES];         /* e^{jw}: complex result from the state */
	float cos_half[DTMF_TONES], sin_half[DTMF_TONES];   /* e^{jw 51}: phase turn of a half block */
	float cos_block[DTMF_TONES], sin_block[DTMF_TONES]; /* e^{jw 102}: phase turn of a block */
	float min_power;            /* Goertzel power of a tone at the minimum level */
	float cand_normal, cand_reverse; /* candidate twist limits as power ratios high / low */
	float cand_rel_peak;        /* candidate relative peak as a power ratio */
	cb_dtmf_chan_t *ch;         /* nchan receivers */
};

#endif
