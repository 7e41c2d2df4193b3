/* Private layout of the tone generator bank (callbox/tone.h). */
#ifndef CALLBOX_PRIVATE_TONE_H
#define CALLBOX_PRIVATE_TONE_H

#include "callbox/tone.h"

#define TONE_QUEUE 64           /* DTMF digits waiting per channel */
#define TONE_CADENCE 16         /* (on, off) pairs per cadence */
#define TONE_TABLE_BITS 10      /* sine table: 1 << 10 points per cycle */

typedef enum { TONE_IDLE, TONE_DTMF, TONE_PLAY } tone_mode_t;

/* One queued DTMF digit. */
typedef struct {
	int row, col;               /* frequency indices: row 0..3, column 0..3 */
	int on, off;                /* samples sounding, then silent */
	int amp_low, amp_high;      /* peak amplitudes of the two tones */
} tone_digit_t;

/* One generator. */
typedef struct {
	tone_mode_t mode;           /* what the channel is doing */
	uint32_t ph1, ph2;          /* phase accumulators, 2^32 = one cycle */
	uint32_t inc1, inc2;        /* phase steps per sample */
	int amp1, amp2;             /* peak amplitudes of the sounding tones (0 = none) */
	int sounding;               /* 1 in an on period, 0 in an off period */
	int left;                   /* samples left in the current period; -1 = endless */
	tone_digit_t queue[TONE_QUEUE]; /* DTMF digits: ring buffer */
	int head, count;            /* oldest queued digit, number queued */
	int digit_off;              /* off time of the digit now sounding */
	int cadence[2 * TONE_CADENCE]; /* tone cadence in samples: on, off, on, off ... */
	int ncad;                   /* pairs in it; 0 = continuous */
	int icad;                   /* pair now playing */
	int repeat;                 /* loop the cadence */
} cb_tone_chan_t;

struct cb_tone_bank_s {
	int nchan;                  /* channels in the bank */
	int16_t sine[(1 << TONE_TABLE_BITS) + 1]; /* one cycle, Q15, plus the first point again */
	cb_tone_chan_t *ch;         /* nchan generators */
};

#endif
