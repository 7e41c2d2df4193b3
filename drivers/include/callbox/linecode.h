/*
 * callbox line codes: AMI, HDB3 (E1, G.703 Annex A) and B8ZS (T1, G.703 / T1.102).
 *
 * What does it do
 *   Encodes line bits (packed MSB first) into ternary symbols (-1, 0, +1, one per bit)
 *   and decodes symbols back into bits, counting bipolar violations that are not part
 *   of a substitution code (BPV) and excess zeros (EXZ): HDB3 >= 4 zeros, B8ZS >= 8,
 *   AMI > 15. LCV = BPV + EXZ (T1.231).
 *
 * How does it work
 *   AMI: ones alternate polarity, zeros are no pulse. HDB3: four zeros become 000V when
 *   an odd number of pulses was sent since the last V, else B00V (B follows the
 *   alternation, V repeats the previous pulse's polarity). B8ZS: eight zeros become
 *   000VB0VB (after a + pulse: 0 0 0 + - 0 - +). Both need to see ahead, so encoder and
 *   decoder each hold back the substitution length minus one symbol (HDB3 3, B8ZS 7):
 *   a call returns as many symbols / bits as have become final.
 */
#ifndef CALLBOX_LINECODE_H
#define CALLBOX_LINECODE_H

#include <stdint.h>

#define CB_LC_AMI  0
#define CB_LC_HDB3 1
#define CB_LC_B8ZS 2

typedef struct cb_linecode_s cb_linecode_t;
typedef struct {
	uint64_t bpv;           /* bipolar violations not part of a substitution */
	uint64_t exz;           /* excess-zero events */
	uint64_t subs;          /* substitutions decoded */
} cb_linecode_counters_t;

cb_linecode_t *cb_linecode_new(int code);
void cb_linecode_free(cb_linecode_t *lc);
/* nbits bits in -> symbols out (capacity nbits + 8); returns the symbol count. */
int cb_linecode_encode(cb_linecode_t *lc, const uint8_t *bits, int nbits, int8_t *sym);
/* n symbols in -> bits out, one per byte as 0/1 (capacity n + 8); returns the bit count. */
int cb_linecode_decode(cb_linecode_t *lc, const int8_t *sym, int n, uint8_t *bits);
void cb_linecode_counters(const cb_linecode_t *lc, cb_linecode_counters_t *c);

#endif
