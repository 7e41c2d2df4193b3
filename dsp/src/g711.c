/* G.711 A-law and mu-law, levels in dBm0. See callbox/g711.h for the method. */
#include <math.h>
#include "callbox/g711.h"

#define ALAW_EVEN_BITS 0x55     /* G.711 6.1: even bits of an A-law octet are inverted */
#define ALAW_POSITIVE 0x80      /* A-law sign bit: 1 = positive */
#define ULAW_BIAS 33            /* mu-law bias on the 14-bit scale (0x84 on the 16-bit one) */
#define ULAW_CLIP 8159          /* largest 14-bit magnitude that is not clipped */
#define LEVEL_SILENCE -100.0    /* what "no signal" reads as, instead of -inf */

/* Tables the compiler builds from a formula: F(0) .. F(255). */
#define ROW4(F, c) F(c), F((c) + 1), F((c) + 2), F((c) + 3)
#define ROW16(F, c) ROW4(F, c), ROW4(F, (c) + 4), ROW4(F, (c) + 8), ROW4(F, (c) + 12)
#define ROW64(F, c) ROW16(F, c), ROW16(F, (c) + 16), ROW16(F, (c) + 32), ROW16(F, (c) + 48)
#define ALL256(F) ROW64(F, 0), ROW64(F, 64), ROW64(F, 128), ROW64(F, 192)

/* Number of significant bits of v (0 for 0): the segment number, below. */
#define BIT_LENGTH(v) ((v) >= 128 ? 8 : (v) >= 64 ? 7 : (v) >= 32 ? 6 : (v) >= 16 ? 5 : \
		       (v) >= 8 ? 4 : (v) >= 4 ? 3 : (v) >= 2 ? 2 : (v) >= 1 ? 1 : 0)
static const uint8_t bit_length[256] = {ALL256(BIT_LENGTH)};

static uint8_t alaw_encode(int16_t sample)
{
	int v = sample >> 3;            /* 13-bit scale (arithmetic shift) */
	uint8_t sign = ALAW_POSITIVE;
	unsigned mag = (unsigned)v;
	if (v < 0) {
		sign = 0;
		mag = (unsigned)(-v - 1);   /* 0 .. 4095: A-law has no negative zero */
	}
	/* segment 0 holds 0..31, segment s >= 1 holds 32 << (s - 1) .. (32 << s) - 1 */
	int seg = bit_length[mag >> 5];
	unsigned step = (mag >> (seg > 1 ? seg : 1)) & 0x0F;
	return (uint8_t)((sign | (unsigned)(seg << 4) | step) ^ ALAW_EVEN_BITS);
}

static uint8_t ulaw_encode(int16_t sample)
{
	int v = sample >> 2;            /* 14-bit scale (arithmetic shift) */
	unsigned invert = 0xFF;         /* positive: sign bit 1 after inversion */
	unsigned mag = (unsigned)v;
	if (v < 0) {
		invert = 0x7F;
		mag = (unsigned)-v;
	}
	if (mag > ULAW_CLIP)
		mag = ULAW_CLIP;
	unsigned biased = mag + ULAW_BIAS;      /* 33 .. 8192 */
	int seg = bit_length[biased >> 6];      /* segment s holds 64 << (s - 1) .. (64 << s) - 1 */
	if (seg > 7)
		return (uint8_t)(0x7F ^ invert);    /* only 8159 + 33 = 8192 gets here */
	unsigned step = (biased >> (seg + 1)) & 0x0F;
	return (uint8_t)(((unsigned)(seg << 4) | step) ^ invert);
}

/* Decoding is one table lookup per code, from tables the compiler builds out of the
 * G.711 formulas below (the middle of each step, on the 16-bit scale): there is no
 * table to type in and none to build at run time. */
#define ALAW_BITS(c) ((c) ^ ALAW_EVEN_BITS)
#define ALAW_SEG(a) (((a) >> 4) & 0x07)
#define ALAW_MAG(a) (ALAW_SEG(a) == 0 ? (((a) & 0x0F) << 4) + 8 \
		     : ((((a) & 0x0F) << 4) + 0x108) << (ALAW_SEG(a) ? ALAW_SEG(a) - 1 : 0))
#define ALAW(c) ((ALAW_BITS(c) & ALAW_POSITIVE) ? ALAW_MAG(ALAW_BITS(c)) : -ALAW_MAG(ALAW_BITS(c)))

#define ULAW_BITS(c) (~(c) & 0xFF)
#define ULAW_BIASED(u) (((((u) & 0x0F) << 3) + (ULAW_BIAS << 2)) << (((u) >> 4) & 0x07))
#define ULAW_MAG(u) (ULAW_BIASED(u) - (ULAW_BIAS << 2))
#define ULAW(c) ((ULAW_BITS(c) & 0x80) ? -ULAW_MAG(ULAW_BITS(c)) : ULAW_MAG(ULAW_BITS(c)))

static const int16_t alaw_table[256] = {ALL256(ALAW)};
static const int16_t ulaw_table[256] = {ALL256(ULAW)};

int cb_g711_alaw_decode(const uint8_t *in, int16_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = alaw_table[in[i]];
	return n;
}

int cb_g711_ulaw_decode(const uint8_t *in, int16_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = ulaw_table[in[i]];
	return n;
}

int cb_g711_alaw_encode(const int16_t *in, uint8_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = alaw_encode(in[i]);
	return n;
}

int cb_g711_ulaw_encode(const int16_t *in, uint8_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = ulaw_encode(in[i]);
	return n;
}

int cb_g711_level(const int16_t *in, int n, cb_g711_law_t law, double *dbm0)
{
	/* a sine with peak = full scale has power full^2 / 2 and reads ref dBm0 (G.711) */
	double full, ref;
	switch (law) {
	case CB_G711_ALAW:
		full = 4096.0 * 8.0;
		ref = 3.14;
		break;
	case CB_G711_ULAW:
		full = 8159.0 * 4.0;
		ref = 3.17;
		break;
	default:
		return CB_EINVAL;
	}
	if (n < 0 || !dbm0 || (n > 0 && !in))
		return CB_EINVAL;
	double acc = 0.0;
	for (int i = 0; i < n; i++)
		acc += (double)in[i] * (double)in[i];
	if (acc <= 0.0) {
		*dbm0 = LEVEL_SILENCE;
		return 0;
	}
	double level = ref + 10.0 * log10((acc / n) / (full * full / 2.0));
	*dbm0 = level < LEVEL_SILENCE ? LEVEL_SILENCE : level;
	return 0;
}
