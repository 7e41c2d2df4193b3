/* E1 framer and deframer (G.704 2.3, G.706 4.1, G.775 defects). See callbox/line.h. */
#include <stdlib.h>
#include <string.h>
#include "private/line.h"

#define FAS_WORD 0x1B        /* bits 2-8 of TS0 in FAS frames: 0011011 (G.704 Table 5A) */
#define FAS_MASK 0x7F
#define NFAS_BIT2 0x40       /* bit 2 of NFAS is 1 (against FAS imitation) */
#define NFAS_A 0x20          /* bit 3: A, remote alarm indication */
#define TX_FAS 0x9B          /* Si = 1, 0011011 */
#define TX_NFAS 0xDF         /* Si = 1, 1, A = 0, Sa4-Sa8 = 1 */
#define LOS_ZEROS 2048       /* ETS 300 233: 1 ms without pulses */
#define AIS_PERIOD 512       /* G.775 */
#define LOF_BAD_FAS 3        /* G.706 4.1.1 */
#define MFAS_PATTERN 0x0B    /* 001011: bit 1 of frames 1,3,5,7,9,11 (G.704 Table 5B) */
#define ANNEX_B_FRAMES 3200  /* 400 ms without a multiframe: the far end sends no CRC-4 */
#define CRC_WINDOW 1000      /* G.706 4.3.2: >= 915 errored of 1000 -> frame re-search */
#define CRC_WINDOW_BAD 915

/* CRC-4 (x^4 + x + 1) over one octet, MSB first; the register holds block * x^4 mod G. */
static uint8_t crc4_octet(uint8_t crc, uint8_t o)
{
	for (int k = 7; k >= 0; k--) {
		int fb = ((crc >> 3) & 1) ^ ((o >> k) & 1);
		crc = (uint8_t)((crc << 1) & 0x0F);
		if (fb)
			crc ^= 0x03;
	}
	return crc;
}

/* CRC-4 of one frame, bit 1 of TS0 counted as 0 (the C-bit positions: G.704 2.3.3.2) */
static uint8_t crc4_frame(uint8_t crc, const uint8_t *f, int c_bit_frame)
{
	crc = crc4_octet(crc, c_bit_frame ? (uint8_t)(f[0] & 0x7F) : f[0]);
	for (int i = 1; i < E1_FRAME; i++)
		crc = crc4_octet(crc, f[i]);
	return crc;
}

cb_e1_tx_t *cb_e1_tx_new(void)
{
	return calloc(1, sizeof(cb_e1_tx_t));
}

void cb_e1_tx_free(cb_e1_tx_t *t)
{
	free(t);
}

void cb_e1_tx_set_rai(cb_e1_tx_t *t, int on)
{
	t->rai = on ? 1 : 0;
}

void cb_e1_tx_set_crc4(cb_e1_tx_t *t, int on)
{
	t->crc4 = on ? 1 : 0;
}

void cb_e1_tx_set_ebits_zero(cb_e1_tx_t *t, int on)
{
	t->ebits_zero = on ? 1 : 0;
}

void cb_e1_tx_report_crc_errors(cb_e1_tx_t *t, int n)
{
	if (n > 0)
		t->ebit_pending += n;
	if (t->ebit_pending > 16)
		t->ebit_pending = 16;
}

int cb_e1_tx_frame(cb_e1_tx_t *t, const uint8_t *in, uint8_t *out, int nframes)
{
	if (!t || !in || !out || nframes < 0)
		return CB_LINE_EINVAL;
	if (in != out)
		memmove(out, in, (size_t)nframes * E1_FRAME);
	for (int i = 0; i < nframes; i++, t->count++) {
		uint8_t *f = out + i * E1_FRAME;
		f[0] = (t->count & 1) ? (uint8_t)(TX_NFAS | (t->rai ? NFAS_A : 0)) : TX_FAS;
		if (!t->crc4)
			continue;
		int m = (int)(t->count % 16);
		int bit1;
		if (!(m & 1))                     /* C1..C4 of the previous sub-multiframe */
			bit1 = (t->prev_crc >> (3 - (m % 8) / 2)) & 1;
		else if (m <= 11)
			bit1 = (MFAS_PATTERN >> (5 - (m - 1) / 2)) & 1;
		else if (t->ebits_zero)
			bit1 = 0;
		else if (t->ebit_pending > 0) {   /* E bit: 0 reports an errored sub-multiframe */
			bit1 = 0;
			t->ebit_pending--;
		} else
			bit1 = 1;
		f[0] = (uint8_t)((f[0] & 0x7F) | (bit1 << 7));
		t->crc = crc4_frame(t->crc, f, !(m & 1));
		if (m % 8 == 7) {
			t->prev_crc = t->crc;
			t->crc = 0;
		}
	}
	return nframes;
}

cb_e1_rx_t *cb_e1_rx_new(void)
{
	cb_e1_rx_t *r = calloc(1, sizeof(*r));
	return r;
}

void cb_e1_rx_free(cb_e1_rx_t *r)
{
	free(r);
}

static uint8_t octet_at(const cb_e1_rx_t *r, size_t bit)
{
	size_t i = bit >> 3;
	unsigned s = bit & 7;
	if (!s)
		return r->buf[i];
	return (uint8_t)((r->buf[i] << s) | (r->buf[i + 1] >> (8 - s)));
}

/* Can a whole frame (plus the octet straddling its end) be read at this bit? */
static int have_frame_at(const cb_e1_rx_t *r, size_t bit)
{
	return (bit >> 3) + E1_FRAME + 1 <= r->nbytes;
}

static void track_defects(cb_e1_rx_t *r, const uint8_t *raw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = raw[i];
		if (b == 0)
			r->zero_run += 8;
		else
			r->zero_run = (uint32_t)__builtin_ctz(b);
		r->period_zeros += 8u - (uint32_t)__builtin_popcount(b);
		r->period_bits += 8;
		if (r->period_bits >= AIS_PERIOD) {
			if (r->period_zeros < 3) {
				r->ok_periods = 0;
				if (++r->ais_periods >= 2 && !r->ais && !r->aligned) {
					r->ais = 1;
					r->ctr.ais_events++;
				}
			} else {
				r->ais_periods = 0;
				if (++r->ok_periods >= 2)
					r->ais = 0;
			}
			r->period_bits = r->period_zeros = 0;
		}
	}
	int los = r->zero_run >= LOS_ZEROS;
	if (los && !r->los)
		r->ctr.los_events++;
	r->los = los;
}

static void push_frame(cb_e1_rx_t *r, size_t bit)
{
	if (r->fifo_count == FIFO_FRAMES) {      /* overflow: the oldest frame is lost */
		r->fifo_head = (r->fifo_head + 1) % FIFO_FRAMES;
		r->fifo_count--;
		r->ctr.slips++;
	}
	uint8_t *f = r->fifo[(r->fifo_head + r->fifo_count) % FIFO_FRAMES];
	for (int i = 0; i < E1_FRAME; i++)
		f[i] = octet_at(r, bit + 8u * (unsigned)i);
	r->fifo_count++;
}

static void lose_mf(cb_e1_rx_t *r)
{
	r->mf_aligned = 0;
	r->mfas_hist = 0;
	r->last_mfas_at = 0;
}

/* One aligned frame through the CRC-4 multiframe logic. */
static void crc4_frame_rx(cb_e1_rx_t *r, const uint8_t *f, int is_nfas)
{
	r->since_align++;
	int bit1 = f[0] >> 7;
	if (!r->mf_aligned) {
		if (!is_nfas)
			return;
		r->nfas_seen++;
		r->mfas_hist = (uint8_t)(((r->mfas_hist << 1) | bit1) & 0x3F);
		if (r->mfas_hist == MFAS_PATTERN && r->nfas_seen >= 6) {
			/* this NFAS was frame 11 of a multiframe; G.706 4.2: twice, 2 ms apart */
			if (r->last_mfas_at && r->since_align - r->last_mfas_at == 16) {
				r->mf_aligned = 1;
				r->mfi = 12;
				r->far_no_crc4 = 0;
				r->ctr.mf_realignments++;
				r->cbits = 0;
				r->crc = 0;
				r->have_prev = -1;      /* the sub-multiframe in progress is only partly seen */
				return;
			}
			r->last_mfas_at = r->since_align;
		}
		if (r->since_align >= ANNEX_B_FRAMES)
			r->far_no_crc4 = 1;
		return;
	}
	int m = r->mfi;
	r->mfi = (r->mfi + 1) % 16;
	if (!(m & 1)) {
		r->cbits = (uint8_t)((r->cbits << 1) | bit1);
		if (m % 8 == 6 && r->have_prev == 1) {         /* C1..C4 complete: check the previous SMF */
			r->ctr.crc4_blocks++;
			r->window_blocks++;
			if (r->cbits != r->prev_crc) {
				r->ctr.crc4_errors++;
				r->crc_errors_new++;
				r->window_errors++;
			}
			if (r->window_blocks >= CRC_WINDOW) {
				if (r->window_errors >= CRC_WINDOW_BAD) {   /* G.706 4.3.2: false alignment */
					r->aligned = 0;
					r->pos += 1;            /* search again from just after it */
					lose_mf(r);
				}
				r->window_blocks = r->window_errors = 0;
			}
		}
	} else if (m <= 11) {
		if (bit1 != ((MFAS_PATTERN >> (5 - (m - 1) / 2)) & 1))
			r->mfas_errors++;
	} else if (!bit1) {
		r->ctr.ebit_errors++;
	}
	r->crc = crc4_frame(r->crc, f, !(m & 1));
	if (m % 8 == 7) {
		r->prev_crc = r->crc;
		r->have_prev = r->have_prev == -1 ? 0 : 1;
		r->crc = 0;
		r->cbits = 0;
	}
}

static void follow(cb_e1_rx_t *r)
{
	while (r->aligned && have_frame_at(r, r->pos)) {
		uint8_t ts0 = octet_at(r, r->pos);
		if (!r->nfas_next) {
			if ((ts0 & FAS_MASK) != FAS_WORD) {
				r->ctr.fas_errors++;
				if (++r->bad_fas >= LOF_BAD_FAS) {   /* G.706 4.1.1 */
					r->aligned = 0;
					r->rai = 0;
					r->pos += 1;                  /* search again from here */
					return;
				}
			} else {
				r->bad_fas = 0;
			}
		} else {
			if (!(ts0 & NFAS_BIT2))
				r->ctr.nfas_errors++;
			r->rai = (ts0 & NFAS_A) ? 1 : 0;
		}
		push_frame(r, r->pos);
		if (r->crc4)
			crc4_frame_rx(r, r->fifo[(r->fifo_head + r->fifo_count - 1) % FIFO_FRAMES], r->nfas_next);
		if (!r->aligned)
			return;                       /* the CRC-4 915/1000 rule forced a new search */
		r->ctr.frames++;
		r->nfas_next ^= 1;
		r->pos += E1_FRAME_BITS;
	}
}

static void hunt(cb_e1_rx_t *r)
{
	/* G.706 4.1.2: FAS in n, NFAS (bit 2 = 1) in n+1, FAS in n+2 */
	while (!r->aligned && have_frame_at(r, r->pos + 2 * E1_FRAME_BITS)) {
		size_t p = r->pos;
		if ((octet_at(r, p) & FAS_MASK) == FAS_WORD &&
		    (octet_at(r, p + E1_FRAME_BITS) & NFAS_BIT2) &&
		    (octet_at(r, p + 2 * E1_FRAME_BITS) & FAS_MASK) == FAS_WORD) {
			r->aligned = 1;
			if (r->ever_aligned)
				r->ctr.realignments++;
			r->ever_aligned = 1;
			r->pos = p + 2 * E1_FRAME_BITS;
			r->nfas_next = 0;
			lose_mf(r);
			r->since_align = 0;
			r->nfas_seen = 0;
			r->bad_fas = 0;
			r->ais = 0;
			return;
		}
		r->pos++;
	}
}

int cb_e1_rx_deframe(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes)
{
	if (!r || !raw || !out || nframes < 0 || nframes > FIFO_FRAMES / 4)
		return CB_LINE_EINVAL;
	size_t n = (size_t)nframes * E1_FRAME;
	/* drop what has been consumed, then append */
	size_t drop = r->pos >> 3;
	if (drop > r->nbytes)
		drop = r->nbytes;
	memmove(r->buf, r->buf + drop, r->nbytes - drop);
	r->nbytes -= drop;
	r->pos -= drop * 8;
	if (r->nbytes + n > RX_BUF) {          /* cannot happen unless n is huge: start afresh */
		r->nbytes = 0;
		r->pos = 0;
		r->aligned = 0;
	}
	memcpy(r->buf + r->nbytes, raw, n);
	r->nbytes += n;
	r->buf[r->nbytes] = 0;
	track_defects(r, raw, n);
	if (r->los) {
		/* nothing to align to: throw the zeros away */
		r->aligned = 0;
		r->pos = r->nbytes * 8;
	}
	for (int round = 0; round < 4; round++) {
		if (r->aligned)
			follow(r);
		if (!r->aligned)
			hunt(r);
		if (r->aligned && !have_frame_at(r, r->pos))
			break;
	}
	/* hand out exactly nframes frames, with SLACK frames in reserve once started */
	enum { SLACK = 2 };
	int out_i = 0;
	if (!r->primed && r->fifo_count >= nframes + SLACK)
		r->primed = 1;
	if (r->primed) {
		if (r->fifo_count >= nframes) {
			for (; out_i < nframes; out_i++) {
				memcpy(out + (size_t)out_i * E1_FRAME, r->fifo[r->fifo_head], E1_FRAME);
				r->fifo_head = (r->fifo_head + 1) % FIFO_FRAMES;
				r->fifo_count--;
			}
		} else {
			r->primed = 0;                    /* the stream came up short */
			if (r->aligned)
				r->ctr.slips++;
		}
	}
	if (out_i < nframes)
		memset(out + (size_t)out_i * E1_FRAME, 0xFF, (size_t)(nframes - out_i) * E1_FRAME);
	while (r->fifo_count > 3 * nframes + SLACK) {   /* too far behind: drop the oldest */
		r->fifo_head = (r->fifo_head + 1) % FIFO_FRAMES;
		r->fifo_count--;
		r->ctr.slips++;
	}
	return nframes;
}

void cb_e1_rx_set_crc4(cb_e1_rx_t *r, int on)
{
	r->crc4 = on ? 1 : 0;
	lose_mf(r);
}

int cb_e1_rx_take_crc_errors(cb_e1_rx_t *r)
{
	int n = r->crc_errors_new;
	r->crc_errors_new = 0;
	return n;
}

void cb_e1_rx_status(const cb_e1_rx_t *r, cb_e1_status_t *st)
{
	st->lomf = r->crc4 && r->aligned && !r->mf_aligned;
	st->far_no_crc4 = r->crc4 && r->far_no_crc4;
	st->los = r->los;
	st->ais = r->ais && !r->los;
	st->aligned = r->aligned;
	st->lof = !r->aligned && !r->los;
	st->rai = r->aligned ? r->rai : 0;
}

void cb_e1_rx_counters(const cb_e1_rx_t *r, cb_e1_counters_t *c)
{
	*c = r->ctr;
}

void cb_e1_rx_reset_counters(cb_e1_rx_t *r)
{
	memset(&r->ctr, 0, sizeof(r->ctr));
}

const char *cb_line_strerror(int code)
{
	switch (code) {
	case CB_LINE_OK: return "success";
	case CB_LINE_EINVAL: return "invalid argument";
	case CB_LINE_ENOMEM: return "out of memory";
	case CB_LINE_EFULL: return "queue or output full";
	default: return "unknown error";
	}
}

void cb_tdm_deinterleave(const uint8_t *frames, uint8_t *chans, int n)
{
	for (int f = 0; f < n; f++)
		for (int ts = 0; ts < E1_FRAME; ts++)
			chans[ts * n + f] = frames[f * E1_FRAME + ts];
}

void cb_tdm_interleave(const uint8_t *chans, uint8_t *frames, int n)
{
	for (int f = 0; f < n; f++)
		for (int ts = 0; ts < E1_FRAME; ts++)
			frames[f * E1_FRAME + ts] = chans[ts * n + f];
}

void cb_e1_payload_insert(uint8_t *frames, const uint8_t *payload, int n)
{
	for (int f = 0; f < n; f++, payload += 30) {
		memcpy(frames + f * E1_FRAME + 1, payload, 15);
		memcpy(frames + f * E1_FRAME + 17, payload + 15, 15);
	}
}

void cb_e1_payload_extract(const uint8_t *frames, uint8_t *payload, int n)
{
	for (int f = 0; f < n; f++, payload += 30) {
		memcpy(payload, frames + f * E1_FRAME + 1, 15);
		memcpy(payload + 15, frames + f * E1_FRAME + 17, 15);
	}
}
