/* T1 framer and deframer: see callbox/t1.h. */
#include <stdlib.h>
#include <string.h>

#include "callbox/line.h"
#include "callbox/t1.h"

#define FRAME_BITS 193
#define CHANNELS 24
#define SEARCH_FRAMES 48
#define BUF_BITS (FRAME_BITS * (SEARCH_FRAMES + 8) + 8 * 3860)
#define LOS_ZEROS 175
#define AIS_WINDOW 8192
#define YELLOW_SF_FRAMES 48

static const uint8_t SF_F[12] = {1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0};
static const uint8_t ESF_FPS[6] = {0, 0, 1, 0, 1, 1};

struct cb_t1_tx_s {
	int framing;
	int fi;                 /* frame index in the superframe */
	int yellow;
	int rbs;
	uint8_t abcd[CHANNELS];
	uint8_t crc;            /* CRC-6 of the superframe being sent (accumulating) */
	uint8_t crc_prev;       /* CRC-6 of the previous superframe, sent in this one */
	int fdl_pos;            /* position in the FDL pattern (16 bits yellow, 8 bits flag) */
};

struct cb_t1_rx_s {
	int framing;
	int rbs;
	uint8_t bits[BUF_BITS];     /* unprocessed line bits: bits[start .. len) */
	int start, len;
	uint64_t in_bits;           /* line bits taken into bits[] since creation */
	int aligned;
	int fi;
	int ferr[4];
	int ferr_pos;
	uint8_t crc, crc_prev, crc_rx;
	int have_prev;
	uint8_t sig_cur[CHANNELS], sig_prev[CHANNELS];
	int sig_count;
	int abcd[CHANNELS];
	int zero_run;
	int los;
	int ones_window[LOS_ZEROS];
	int ones_pos, ones_sum;
	int ais;
	int ais_zeros, ais_bits;
	int yellow;
	int sf_yellow_run;
	uint16_t fdl_reg;
	long fdl_pos, fdl_last_hit;
	int fdl_hits;
	cb_t1_counters_t c;
};

static uint8_t crc6_bit(uint8_t crc, int bit)
{
	int fb = ((crc >> 5) & 1) ^ bit;
	crc = (uint8_t)((crc << 1) & 0x3F);
	return fb ? (uint8_t)(crc ^ 0x03) : crc;
}

static void put_bit(uint8_t *raw, long pos, int bit)
{
	if (bit)
		raw[pos >> 3] |= (uint8_t)(0x80 >> (pos & 7));
	else
		raw[pos >> 3] &= (uint8_t)~(0x80 >> (pos & 7));
}

cb_t1_tx_t *cb_t1_tx_new(int framing)
{
	if (framing != CB_T1_SF && framing != CB_T1_ESF)
		return NULL;
	cb_t1_tx_t *t = calloc(1, sizeof(*t));
	if (t) {
		t->framing = framing;
		memset(t->abcd, 0x0F, sizeof(t->abcd));
	}
	return t;
}

void cb_t1_tx_free(cb_t1_tx_t *t)
{
	free(t);
}

void cb_t1_tx_set_yellow(cb_t1_tx_t *t, int on)
{
	if (t)
		t->yellow = !!on;
}

int cb_t1_tx_set_rbs(cb_t1_tx_t *t, int on)
{
	if (!t)
		return CB_LINE_EINVAL;
	t->rbs = !!on;
	return 0;
}

int cb_t1_tx_set_abcd(cb_t1_tx_t *t, int chan, int abcd)
{
	if (!t || chan < 0 || chan >= CHANNELS || abcd < 0 || abcd > 15)
		return CB_LINE_EINVAL;
	t->abcd[chan] = (uint8_t)abcd;
	return 0;
}

static int tx_fdl_bit(cb_t1_tx_t *t)
{
	int bit;
	if (t->yellow) {
		bit = (t->fdl_pos % 16) < 8;            /* 1111111100000000 */
		t->fdl_pos = (t->fdl_pos + 1) % 16;
	} else {
		bit = (0x7E >> (7 - t->fdl_pos % 8)) & 1; /* HDLC idle flags */
		t->fdl_pos = (t->fdl_pos + 1) % 8;
	}
	return bit;
}

/* signalling bit (0..3 = A..D) carried in frame index fi, or -1 */
static int sig_index(int framing, int fi)
{
	if (framing == CB_T1_SF)
		return fi == 5 ? 0 : fi == 11 ? 1 : -1;
	return (fi % 6 == 5) ? fi / 6 : -1;
}

int cb_t1_tx_frame(cb_t1_tx_t *t, const uint8_t *payload, uint8_t *raw, int nframes)
{
	if (!t || !payload || !raw || nframes < 0 || nframes % 8)
		return CB_LINE_EINVAL;
	int sf_len = t->framing == CB_T1_SF ? 12 : 24;
	long pos = 0;
	for (int f = 0; f < nframes; f++) {
		int fi = t->fi, fbit;
		if (t->framing == CB_T1_SF) {
			fbit = SF_F[fi];
		} else if (fi % 4 == 3) {
			fbit = ESF_FPS[fi / 4];
		} else if (fi % 4 == 1) {
			fbit = (t->crc_prev >> (5 - fi / 4)) & 1;  /* C1 (MSB) in frame 2 */
		} else {
			fbit = tx_fdl_bit(t);
		}
		put_bit(raw, pos++, fbit);
		if (t->framing == CB_T1_ESF)
			t->crc = crc6_bit(t->crc, 1);              /* F bits count as 1 */
		int si = t->rbs ? sig_index(t->framing, fi) : -1;
		for (int ch = 0; ch < CHANNELS; ch++) {
			uint8_t o = payload[f * CHANNELS + ch];
			if (t->yellow && t->framing == CB_T1_SF)
				o &= 0xBF;                          /* bit 2 = 0 in every channel */
			if (si >= 0) {
				o = (uint8_t)((o & 0xFE) | ((t->abcd[ch] >> (3 - si)) & 1));
			}
			for (int b = 7; b >= 0; b--) {
				int bit = (o >> b) & 1;
				put_bit(raw, pos++, bit);
				if (t->framing == CB_T1_ESF)
					t->crc = crc6_bit(t->crc, bit);
			}
		}
		t->fi = (fi + 1) % sf_len;
		if (t->fi == 0 && t->framing == CB_T1_ESF) {
			t->crc_prev = t->crc;
			t->crc = 0;
		}
	}
	return nframes;
}

cb_t1_rx_t *cb_t1_rx_new(int framing)
{
	if (framing != CB_T1_SF && framing != CB_T1_ESF)
		return NULL;
	cb_t1_rx_t *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->framing = framing;
	for (int i = 0; i < CHANNELS; i++)
		r->abcd[i] = -1;
	return r;
}

void cb_t1_rx_free(cb_t1_rx_t *r)
{
	free(r);
}

void cb_t1_rx_set_rbs(cb_t1_rx_t *r, int on)
{
	if (r)
		r->rbs = !!on;
}

static int fbit_ok(int framing, int fi, int bit, int *is_framing)
{
	if (framing == CB_T1_SF) {
		*is_framing = (fi % 2 == 0);                /* Ft: frames 1, 3, ..., 11 */
		return bit == SF_F[fi];
	}
	*is_framing = (fi % 4 == 3);
	return !*is_framing || bit == ESF_FPS[fi / 4];
}

/* the one (phase, superframe index) whose framing bits match over the search window */
static int search(cb_t1_rx_t *r, int *phase, int *fi0)
{
	int sf_len = r->framing == CB_T1_SF ? 12 : 24, found = 0;
	for (int p = 0; p < FRAME_BITS; p++) {
		for (int s = 0; s < sf_len; s++) {
			int ok = 1;
			for (int k = 0; k < SEARCH_FRAMES && ok; k++) {
				int fi = (s + k) % sf_len, isf;
				int bit = r->bits[r->start + p + k * FRAME_BITS];
				if (r->framing == CB_T1_SF)
					ok = bit == SF_F[fi];
				else
					ok = fbit_ok(r->framing, fi, bit, &isf);
			}
			if (ok) {
				if (++found > 1)
					return 0;
				*phase = p;
				*fi0 = s;
			}
		}
	}
	return found == 1;
}

static void compact(cb_t1_rx_t *r)
{
	if (r->start) {
		memmove(r->bits, r->bits + r->start, (size_t)(r->len - r->start));
		r->len -= r->start;
		r->start = 0;
	}
}

static void line_bits(cb_t1_rx_t *r, const uint8_t *raw, long nbits)
{
	compact(r);
	for (long i = 0; i < nbits; i++) {
		int bit = (raw[i >> 3] >> (7 - (i & 7))) & 1;
		/* LOS: LOS_ZEROS zeros in a row; cleared by 12.5 % ones over LOS_ZEROS bits */
		r->ones_sum += bit - r->ones_window[r->ones_pos];
		r->ones_window[r->ones_pos] = bit;
		r->ones_pos = (r->ones_pos + 1) % LOS_ZEROS;
		r->zero_run = bit ? 0 : r->zero_run + 1;
		if (!r->los && r->zero_run >= LOS_ZEROS) {
			r->los = 1;
			r->c.los_events++;
		} else if (r->los && r->ones_sum * 8 >= LOS_ZEROS) {
			r->los = 0;
		}
		/* AIS: fewer than 9 zeros in an 8192-bit window, while out of frame */
		r->ais_zeros += !bit;
		if (++r->ais_bits == AIS_WINDOW) {
			int was = r->ais;
			r->ais = r->ais_zeros < 9 && !r->aligned && !r->los;
			if (r->ais && !was)
				r->c.ais_events++;
			r->ais_bits = r->ais_zeros = 0;
		}
		if (r->len < BUF_BITS) {
			r->bits[r->len++] = (uint8_t)bit;
			r->in_bits++;
		}
	}
}

static int avail(const cb_t1_rx_t *r)
{
	return r->len - r->start;
}

static void drop(cb_t1_rx_t *r, int n)
{
	r->start = n >= avail(r) ? r->len : r->start + n;
}

static void superframe_end(cb_t1_rx_t *r)
{
	r->c.superframes++;
	if (r->framing == CB_T1_ESF) {
		if (r->have_prev && r->crc_rx != r->crc_prev)
			r->c.crc6_errors++;
		r->crc_prev = r->crc;
		r->have_prev = 1;
		r->crc = 0;
		r->crc_rx = 0;
	}
	if (r->rbs) {
		if (r->sig_count && !memcmp(r->sig_cur, r->sig_prev, CHANNELS))
			for (int ch = 0; ch < CHANNELS; ch++)
				r->abcd[ch] = r->sig_cur[ch];
		memcpy(r->sig_prev, r->sig_cur, CHANNELS);
		r->sig_count = 1;
	}
}

static void rx_frame(cb_t1_rx_t *r, uint8_t *out)
{
	int sf_len = r->framing == CB_T1_SF ? 12 : 24, fi = r->fi, isf;
	const uint8_t *fr = r->bits + r->start;
	int fbit = fr[0];
	if (!fbit_ok(r->framing, fi, fbit, &isf))
		r->c.fbit_errors++;
	if (isf) {
		r->ferr[r->ferr_pos] = fbit_ok(r->framing, fi, fbit, &isf) ? 0 : 1;
		r->ferr_pos = (r->ferr_pos + 1) % 4;
	}
	if (r->framing == CB_T1_ESF) {
		r->crc = crc6_bit(r->crc, 1);
		if (fi % 4 == 1)
			r->crc_rx = (uint8_t)((r->crc_rx << 1) | fbit);
		else if (fi % 2 == 0) {                       /* FDL: yellow = 1111111100000000 */
			r->fdl_reg = (uint16_t)((r->fdl_reg << 1) | fbit);
			r->fdl_pos++;
			if (r->fdl_reg == 0xFF00) {
				r->fdl_hits++;
				r->fdl_last_hit = r->fdl_pos;
			}
			if (r->fdl_pos - r->fdl_last_hit > 32)
				r->fdl_hits = 0;
			r->yellow = r->fdl_hits >= 4;
		}
	}
	int si = r->rbs ? sig_index(r->framing, fi) : -1;
	int all_bit2_zero = 1;
	for (int ch = 0; ch < CHANNELS; ch++) {
		uint8_t o = 0;
		for (int b = 0; b < 8; b++) {
			int bit = fr[1 + ch * 8 + b];
			o = (uint8_t)((o << 1) | bit);
			if (r->framing == CB_T1_ESF)
				r->crc = crc6_bit(r->crc, bit);
		}
		if (o & 0x40)
			all_bit2_zero = 0;
		if (si >= 0) {
			int mask = 1 << (3 - si);
			r->sig_cur[ch] = (uint8_t)((r->sig_cur[ch] & ~mask) | ((o & 1) ? mask : 0));
			if (r->framing == CB_T1_SF && si == 1)   /* SF: C and D repeat A and B */
				r->sig_cur[ch] = (uint8_t)((r->sig_cur[ch] & 0x0C) | ((r->sig_cur[ch] >> 2) & 0x03));
		}
		out[ch] = o;
	}
	if (r->framing == CB_T1_SF) {
		r->sf_yellow_run = all_bit2_zero ? r->sf_yellow_run + 1 : 0;
		r->yellow = r->sf_yellow_run >= YELLOW_SF_FRAMES;
	}
	r->c.frames++;
	drop(r, FRAME_BITS);
	r->fi = (fi + 1) % sf_len;
	if (r->fi == 0)
		superframe_end(r);
	int errs = r->ferr[0] + r->ferr[1] + r->ferr[2] + r->ferr[3];
	if (errs >= 2) {
		r->aligned = 0;
		r->c.oof_events++;
		memset(r->ferr, 0, sizeof(r->ferr));
		r->have_prev = 0;
		r->yellow = 0;
	}
}

int cb_t1_rx_deframe(cb_t1_rx_t *r, const uint8_t *raw, uint8_t *payload, int nframes)
{
	return cb_t1_rx_deframe_at(r, raw, payload, nframes, NULL, NULL);
}

int cb_t1_rx_deframe_at(cb_t1_rx_t *r, const uint8_t *raw, uint8_t *payload, int nframes, int64_t *starts,
			uint8_t *fbits)
{
	if (!r || !raw || !payload || nframes < 0 || nframes % 8)
		return CB_LINE_EINVAL;
	long nbits = (long)nframes * FRAME_BITS;
	int made = 0;
	for (long done = 0; done < nbits;) {
		long chunk = nbits - done > 8L * FRAME_BITS ? 8L * FRAME_BITS : nbits - done;
		line_bits(r, raw + done / 8, chunk);
		done += chunk;
		if (!r->aligned && !r->los && avail(r) >= SEARCH_FRAMES * FRAME_BITS + FRAME_BITS) {
			int p, s;
			if (search(r, &p, &s)) {
				drop(r, p);
				r->aligned = 1;
				r->fi = s;
				r->crc = 0;
				r->have_prev = 0;
				r->sig_count = 0;
				memset(r->ferr, 0, sizeof(r->ferr));
				r->c.reframes++;
				if (s != 0) {                         /* skip to the next superframe start */
					int sf_len = r->framing == CB_T1_SF ? 12 : 24;
					while (r->fi != 0 && avail(r) >= FRAME_BITS) {
						drop(r, FRAME_BITS);
						r->fi = (r->fi + 1) % sf_len;
					}
				}
			} else {
				drop(r, avail(r) - SEARCH_FRAMES * FRAME_BITS);
			}
		}
		if (r->los && r->aligned) {
			r->aligned = 0;
			r->c.oof_events++;
		}
		if (r->los)
			r->start = r->len;
		while (r->aligned && avail(r) >= FRAME_BITS && made < nframes) {
			if (starts)
				starts[made] = (int64_t)(r->in_bits - (uint64_t)avail(r));
			if (fbits)
				fbits[made] = r->bits[r->start];
			rx_frame(r, payload + (size_t)made * CHANNELS);
			made++;
		}
		if (!r->aligned && avail(r) > (SEARCH_FRAMES + 2) * FRAME_BITS)
			drop(r, avail(r) - (SEARCH_FRAMES + 2) * FRAME_BITS);
	}
	if (made < nframes)
		memset(payload + (size_t)made * CHANNELS, 0xFF, (size_t)(nframes - made) * CHANNELS);
	for (int j = made; j < nframes; j++) {
		if (starts)
			starts[j] = -1;
		if (fbits)
			fbits[j] = 1;
	}
	return nframes;
}

void cb_t1_rx_status(const cb_t1_rx_t *r, cb_t1_status_t *st)
{
	if (!r || !st)
		return;
	st->los = r->los;
	st->ais = r->ais;
	st->aligned = r->aligned;
	st->oof = !r->aligned && !r->los;
	st->yellow = r->aligned ? r->yellow : 0;
}

void cb_t1_rx_counters(const cb_t1_rx_t *r, cb_t1_counters_t *c)
{
	if (r && c)
		*c = r->c;
}

int cb_t1_rx_abcd(const cb_t1_rx_t *r, int chan)
{
	if (!r || chan < 0 || chan >= CHANNELS)
		return CB_LINE_EINVAL;
	return r->abcd[chan];
}
