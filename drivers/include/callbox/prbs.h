/*
 * callbox PRBS: pseudo-random bit sequences for bit-error-rate tests (ITU-T O.151).
 *
 * What does it do
 *   Generates and checks the O.151 test sequences 2^11-1 (x^11 + x^9 + 1, for 64
 *   kbit/s), 2^15-1 (x^15 + x^14 + 1, for 2048 and 1544 kbit/s), 2^20-1 (x^20 + x^3 + 1)
 *   and 2^23-1 (x^23 + x^18 + 1), in either polarity, packed MSB first like line bits.
 *   The generator can insert single bit errors; the checker counts bits and errors.
 *
 * How does it work
 *   A Fibonacci shift register: each bit is the XOR of the bits `order` and `tap`
 *   places back. Non-inverted 2^15-1 holds runs of up to 15 ones and 14 zeros (how test
 *   sets tell the polarities apart). The checker first predicts each bit from the
 *   received ones; after 2 x order correct predictions it is in sync and runs its own
 *   register freely, so one line error counts as one error (not tap+1). More than 20 %
 *   errors in a 1024-bit window loses sync, and the search starts again.
 */
#ifndef CALLBOX_PRBS_H
#define CALLBOX_PRBS_H

#include <stdint.h>

typedef struct cb_prbs_s cb_prbs_t;
typedef struct {
	uint64_t bits;          /* bits compared while in sync */
	uint64_t errors;        /* bits received wrong while in sync */
	uint64_t sync_losses;   /* times the checker lost sync */
	int synced;             /* 1 while in sync */
} cb_prbs_stats_t;

/* order: 11, 15, 20 or 23; NULL for any other. */
cb_prbs_t *cb_prbs_new(int order, int inverted);
void cb_prbs_free(cb_prbs_t *p);
void cb_prbs_generate(cb_prbs_t *p, uint8_t *out, int nbytes);
void cb_prbs_insert_error(cb_prbs_t *p);
void cb_prbs_check(cb_prbs_t *p, const uint8_t *in, int nbytes);
void cb_prbs_stats(const cb_prbs_t *p, cb_prbs_stats_t *st);
void cb_prbs_reset_stats(cb_prbs_t *p);

#endif
