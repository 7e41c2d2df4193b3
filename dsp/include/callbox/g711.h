/*
 * G.711 A-law and mu-law, and signal levels in dBm0.
 *
 * What does it do
 *   Converts between 8-bit G.711 codes and 16-bit linear samples, for whole arrays in
 *   one call, bit-exact with ITU-T G.711 (tables 1a/1b A-law, 2a/2b mu-law), and
 *   measures the RMS level of linear samples in dBm0.
 *
 * How does it work
 *   Encoding takes the 16-bit sample to the scale G.711 works on by an arithmetic
 *   right shift (A-law: 13 bits, >> 3; mu-law: 14 bits, >> 2). A-law: a negative
 *   value v becomes magnitude -v - 1 (so -1 .. -8 share a code with 0 .. 7); the
 *   segment is the position of the magnitude's top bit above bit 4, the 4-bit step
 *   comes from the four bits below it, the sign bit is 1 for positive values, and
 *   the even bits of the octet are inverted (XOR 0x55). mu-law: magnitude clipped to
 *   8159, biased by 33 (0x84 on the 16-bit scale), segment and step taken the same
 *   way, and the whole octet inverted. Decoding gives the middle of the step, on the
 *   16-bit scale. Encoding is a handful of integer operations per sample; decoding is
 *   a lookup in a 256-entry table that the compiler builds from the same formulas.
 *   No state, no run-time initialisation.
 *
 *   Idle channels: A-law 0xD5 (+8 after decoding, the smallest positive step) and
 *   mu-law 0xFF (0).
 *
 * Acceptance figures (G.711)
 *   Every one of the 65536 16-bit inputs and every one of the 256 codes gives the
 *   reference result (tests/dsp/test_g711.py checks all of them against an
 *   independent implementation). A full-scale sine is +3.14 dBm0 (A-law) and
 *   +3.17 dBm0 (mu-law); see callbox/dsp.h for the 0 dBm0 reference this gives.
 */
#ifndef CALLBOX_G711_H
#define CALLBOX_G711_H

#include "callbox/dsp.h"

typedef enum {
	CB_G711_ALAW = 0,
	CB_G711_ULAW = 1
} cb_g711_law_t;

/* Decode n codes from in into n samples at out. Returns n, or CB_EINVAL. */
int cb_g711_alaw_decode(const uint8_t *in, int16_t *out, int n);
int cb_g711_ulaw_decode(const uint8_t *in, int16_t *out, int n);

/* Encode n samples from in into n codes at out. Returns n, or CB_EINVAL. */
int cb_g711_alaw_encode(const int16_t *in, uint8_t *out, int n);
int cb_g711_ulaw_encode(const int16_t *in, uint8_t *out, int n);

/* RMS level of n linear samples in dBm0 for the given law, written to *dbm0;
 * -100.0 for silence or n = 0 (never -inf). Returns 0, or CB_EINVAL. */
int cb_g711_level(const int16_t *in, int n, cb_g711_law_t law, double *dbm0);

#endif
