/*
 * libFuzzer harness for the line layer (drivers/src): any bytes, as raw line bits or line
 * symbols, into every receiver. Built with clang -fsanitize=fuzzer,address,undefined by
 * drivers/fuzz/run.sh (CI runs it for a bounded time); a crash, an out-of-bounds access or
 * undefined behaviour stops it with the input that caused it.
 *
 * The first byte picks the target and its mode; the rest is the input:
 *   0 E1 deframer (CRC-4 off / strict / auto) then the CAS multiframe over its output
 *   1 T1 deframer (SF / ESF, robbed bits on or off)
 *   2 HDLC receiver (4 channels)
 *   3 line decoder (AMI / HDB3 / B8ZS) on the bytes as signed symbols
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbox/cas.h"
#include "callbox/e1.h"
#include "callbox/hdlc.h"
#include "callbox/line.h"
#include "callbox/linecode.h"
#include "callbox/t1.h"

static void fuzz_e1(int mode, const uint8_t *d, size_t n)
{
	cb_e1_rx_t *r = cb_e1_rx_new();
	cb_cas_t *c = cb_cas_new();
	if (!r || !c)
		abort();
	cb_e1_rx_set_crc4_mode(r, mode % 3);
	/* feed in calls of varying size, as a line does */
	size_t pos = 0, step = 1 + (mode >> 2) % 7;
	uint8_t out[32 * 8];
	int64_t starts[8];
	uint8_t abcd[30];
	while (pos + 32 <= n) {
		int frames = (int)((n - pos) / 32);
		if (frames > (int)step)
			frames = (int)step;
		cb_e1_rx_deframe_at(r, d + pos, out, frames, starts);
		cb_cas_extract(c, out, frames);
		pos += (size_t)frames * 32;
	}
	cb_e1_status_t st;
	cb_e1_counters_t ct;
	cb_e1_rx_status(r, &st);
	cb_e1_rx_counters(r, &ct);
	cb_e1_rx_sa(r);
	cb_e1_rx_take_crc_errors(r);
	cb_cas_rx_all(c, abcd);
	cb_e1_rx_free(r);
	cb_cas_free(c);
}

static void fuzz_t1(int mode, const uint8_t *d, size_t n)
{
	cb_t1_rx_t *r = cb_t1_rx_new(mode & 1);
	if (!r)
		abort();
	cb_t1_rx_set_rbs(r, (mode >> 1) & 1);
	uint8_t out[24 * 8];
	int64_t starts[8];
	uint8_t fbits[8];
	for (size_t pos = 0; pos + 193 <= n; pos += 193)
		cb_t1_rx_deframe_at(r, d + pos, out, 8, starts, fbits);
	cb_t1_status_t st;
	cb_t1_rx_status(r, &st);
	for (int ch = 0; ch < 24; ch++)
		cb_t1_rx_abcd(r, ch);
	cb_t1_rx_free(r);
}

static void fuzz_hdlc(const uint8_t *d, size_t n)
{
	cb_hdlc_bank_t *b = cb_hdlc_bank_new(4, 260);
	if (!b)
		abort();
	uint8_t buf[4 * 1024];
	cb_hdlc_frame_t fr[64];
	int per = (int)(n / 4);
	if (per > 0)
		cb_hdlc_rx(b, d, per, buf, sizeof(buf), fr, 64);
	cb_hdlc_bank_free(b);
}

static void fuzz_linecode(int mode, const uint8_t *d, size_t n)
{
	cb_linecode_t *lc = cb_linecode_new(mode % 3);
	if (!lc)
		abort();
	uint8_t *bits = malloc(n + 8);
	if (!bits)
		abort();
	cb_linecode_decode(lc, (const int8_t *)d, (int)n, bits);
	cb_linecode_counters_t c;
	cb_linecode_counters(lc, &c);
	free(bits);
	cb_linecode_free(lc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int sel = data[0] & 3, mode = data[0] >> 2;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	switch (sel) {
	case 0: fuzz_e1(mode, d, n); break;
	case 1: fuzz_t1(mode, d, n); break;
	case 2: fuzz_hdlc(d, n); break;
	default: fuzz_linecode(mode, d, n); break;
	}
	return 0;
}
