/* G.711 A-law and mu-law, levels in dBm0. See callbox/g711.h for the method. */
#include <math.h>
#include "callbox/g711.h"

#define ALAW_EVEN_BITS 0x55     /* G.711 6.1: even bits of an A-law octet are inverted */
#define ALAW_POSITIVE 0x80      /* A-law sign bit: 1 = positive */
#define ULAW_BIAS 33            /* mu-law bias on the 14-bit scale (0x84 on the 16-bit one) */
#define ULAW_CLIP 8159          /* largest 14-bit magnitude that is not clipped */
#define LEVEL_SILENCE -100.0    /* what "no signal" reads as, instead of -inf */

/* Number of significant bits of v (0 for 0), v < 256. */
static int bit_length(unsigned v)
{
	int n = 0;
	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

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
	int seg = bit_length(mag >> 5);
	unsigned step = (mag >> (seg > 1 ? seg : 1)) & 0x0F;
	return (uint8_t)((sign | (unsigned)(seg << 4) | step) ^ ALAW_EVEN_BITS);
}

static int16_t alaw_decode(uint8_t code)
{
	unsigned a = code ^ ALAW_EVEN_BITS;
	int seg = (int)((a >> 4) & 0x07);
	int step = (int)(a & 0x0F);
	/* middle of the step, on the 16-bit scale (13-bit value << 3) */
	int mag = seg == 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (seg - 1);
	return (int16_t)((a & ALAW_POSITIVE) ? mag : -mag);
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
	int seg = bit_length(biased >> 6);      /* segment s holds 64 << (s - 1) .. (64 << s) - 1 */
	if (seg > 7)
		return (uint8_t)(0x7F ^ invert);    /* only 8159 + 33 = 8192 gets here */
	unsigned step = (biased >> (seg + 1)) & 0x0F;
	return (uint8_t)(((unsigned)(seg << 4) | step) ^ invert);
}

static int16_t ulaw_decode(uint8_t code)
{
	unsigned u = (uint8_t)~code;
	int seg = (int)((u >> 4) & 0x07);
	int biased = (((int)(u & 0x0F) << 3) + (ULAW_BIAS << 2)) << seg;    /* 16-bit scale */
	int mag = biased - (ULAW_BIAS << 2);
	return (int16_t)((u & 0x80) ? -mag : mag);
}

int cb_g711_alaw_decode(const uint8_t *in, int16_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = alaw_decode(in[i]);
	return n;
}

int cb_g711_ulaw_decode(const uint8_t *in, int16_t *out, int n)
{
	if (n < 0 || (n > 0 && (!in || !out)))
		return CB_EINVAL;
	for (int i = 0; i < n; i++)
		out[i] = ulaw_decode(in[i]);
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
