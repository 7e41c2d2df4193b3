/* G.711 A-law and mu-law (ITU-T G.711 tables 1a/1b and 2a/2b), bit-exact.
 * Encoding works on the 13-bit (A-law) / 14-bit (mu-law) magnitudes G.711 defines,
 * taken from 16-bit linear by an arithmetic right shift. */
#include <math.h>
#include "callbox/dsp.h"

static int top_segment(int mag, int first_end)
{
	/* segment s covers magnitudes up to ((first_end + 1) << s) - 1 */
	int seg = 0;
	while (seg < 8 && mag > (((first_end + 1) << seg) - 1))
		seg++;
	return seg;
}

static uint8_t alaw_encode(int16_t s)
{
	int v = s >> 3;                   /* 13-bit */
	int mask = 0xD5;                  /* positive: sign bit 1, even bits inverted */
	if (v < 0) {
		mask = 0x55;
		v = -v - 1;
	}
	int seg = top_segment(v, 0x1F);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	int q = seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F;
	return (uint8_t)(((seg << 4) | q) ^ mask);
}

static int16_t alaw_decode(uint8_t a)
{
	a ^= 0x55;
	int q = (a & 0x0F) << 4;
	int seg = (a & 0x70) >> 4;
	int t = seg == 0 ? q + 8 : (q + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

static uint8_t ulaw_encode(int16_t s)
{
	int v = s >> 2;                   /* 14-bit */
	int mask = 0xFF;
	if (v < 0) {
		v = -v;
		mask = 0x7F;
	}
	if (v > 8159)
		v = 8159;
	v += 0x84 >> 2;                   /* bias */
	int seg = top_segment(v, 0x3F);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0x0F)) ^ mask);
}

static int16_t ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

/* Large blocks go through a 256-entry table built on the stack (no mutable globals). */
#define TABLE_FROM 1024

void cb_alaw_to_linear(const uint8_t *in, int16_t *out, size_t n)
{
	if (n < TABLE_FROM) {
		for (size_t i = 0; i < n; i++)
			out[i] = alaw_decode(in[i]);
		return;
	}
	int16_t t[256];
	for (int c = 0; c < 256; c++)
		t[c] = alaw_decode((uint8_t)c);
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}

void cb_linear_to_alaw(const int16_t *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alaw_encode(in[i]);
}

void cb_ulaw_to_linear(const uint8_t *in, int16_t *out, size_t n)
{
	if (n < TABLE_FROM) {
		for (size_t i = 0; i < n; i++)
			out[i] = ulaw_decode(in[i]);
		return;
	}
	int16_t t[256];
	for (int c = 0; c < 256; c++)
		t[c] = ulaw_decode((uint8_t)c);
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}

void cb_linear_to_ulaw(const int16_t *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = ulaw_encode(in[i]);
}

double cb_mean_power(const int16_t *in, size_t n)
{
	double acc = 0.0;
	for (size_t i = 0; i < n; i++)
		acc += (double)in[i] * in[i];
	return n ? acc / (double)n : 0.0;
}

const char *cb_dsp_strerror(int code)
{
	switch (code) {
	case CB_DSP_OK: return "success";
	case CB_DSP_EINVAL: return "invalid argument";
	case CB_DSP_ENOMEM: return "out of memory";
	case CB_DSP_EFULL: return "queue or output full";
	default: return "unknown error";
	}
}
