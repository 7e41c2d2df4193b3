/* E1 framer and deframer (G.704 2.3, G.706 4.1-4.3, G.775 defects). See callbox/e1.h. */
#include <stdlib.h>
#include <string.h>
#include "private/e1.h"

#define FAS_WORD 0x1B        /* bits 2-8 of TS0 in FAS frames: 0011011 (G.704 Table 5A) */
#define FAS_MASK 0x7F
#define NFAS_BIT2 0x40       /* bit 2 of the NFAS is 1, against FAS imitation (G.704 Table 5A) */
#define NFAS_A 0x20          /* bit 3 of the NFAS: A, remote alarm indication */
#define TX_FAS 0x9B          /* C/Si = 1, 0011011 */
#define TX_NFAS_FIXED 0xC0   /* Si = 1, bit 2 = 1; then A and Sa4-Sa8 */
#define TX_SA_IDLE 0x1F      /* unused Sa bits are sent as 1 (G.704 2.3.2) */
#define SA_PERSIST 3         /* received Sa bits count once the same in 3 NFAS in a row */
#define LOS_ZEROS 2048       /* ETS 300 233: 1 ms without pulses */
#define AIS_PERIOD_FRAMES 2  /* G.775: 512-bit periods = two frame times */
#define AIS_MAX_ZEROS 2      /* G.775: a period with fewer than 3 zeros looks like AIS */
#define LOF_BAD_FAS 3        /* G.706 4.1.1: three consecutive incorrect FAS lose alignment */
#define MFAS_PATTERN 0x0B    /* 001011: bit 1 of frames 1,3,5,7,9,11 (G.704 Table 5B) */
#define ANNEX_B_FRAMES 3200  /* G.706 Annex B: 400 ms without a multiframe, the far end sends no CRC-4 */
#define MF_SEARCH_FRAMES 64  /* G.706 4.2: no multiframe 8 ms after frame alignment: the FAS was spurious */
#define CRC_WINDOW 1000      /* G.706 4.3.2: >= 915 errored of 1000 -> frame re-search */
#define CRC_WINDOW_BAD 915
#define E_BITS_MAX 48        /* E bits still to send as 0: the engine reports a 20 ms block (20 sub-multiframes) at once; two blocks and some */

/* ---------------------------------------------------------------- CRC-4 */

/* CRC-4 (x^4 + x + 1) over one octet, MSB first, bit by bit; the register holds block * x^4
 * mod G. Used to build the table below. */
static uint8_t crc4_octet_bits(uint8_t crc, uint8_t o)
{
	for (int k = 7; k >= 0; k--) {
		int fb = ((crc >> 3) & 1) ^ ((o >> k) & 1);
		crc = (uint8_t)((crc << 1) & 0x0F);
		if (fb)
			crc ^= 0x03;
	}
	return crc;
}

/* The same an octet at a time: the 4-bit register shifted into the octet's top half, then
 * one lookup (the CRC is linear, so T[(crc << 4) ^ o] = the bitwise result). */
static uint8_t crc4_table[256];
static int crc4_table_ready;

static void crc4_init(void)
{
	if (crc4_table_ready)
		return;
	for (int v = 0; v < 256; v++)
		crc4_table[v] = crc4_octet_bits(0, (uint8_t)v);
	crc4_table_ready = 1;
}

static inline uint8_t crc4_octet(uint8_t crc, uint8_t o)
{
	return crc4_table[(uint8_t)((crc << 4) ^ o)];
}

/* CRC-4 of one frame, bit 1 of TS0 counted as 0 in the C-bit frames (G.704 2.3.3.2). */
static uint8_t crc4_frame(uint8_t crc, const uint8_t *f, int c_bit_frame)
{
	crc = crc4_octet(crc, c_bit_frame ? (uint8_t)(f[0] & 0x7F) : f[0]);
	for (int i = 1; i < E1_FRAME_OCTETS; i++)
		crc = crc4_octet(crc, f[i]);
	return crc;
}

/* ---------------------------------------------------------------- framer */

cb_e1_tx_t *cb_e1_tx_new(void)
{
	crc4_init();
	cb_e1_tx_t *t = calloc(1, sizeof(cb_e1_tx_t));
	if (t)
		t->sa = TX_SA_IDLE;
	return t;
}

int cb_e1_tx_set_sa(cb_e1_tx_t *t, int sa)
{
	if (!t || sa < 0 || sa > 0x1F)
		return CB_LINE_EINVAL;
	t->sa = sa;
	return 0;
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
		t->ebit_pending += n > E_BITS_MAX ? E_BITS_MAX : n;
	if (t->ebit_pending > E_BITS_MAX)
		t->ebit_pending = E_BITS_MAX;
}

/* Bit 1 of TS0 in multiframe position m (G.704 Table 5B). */
static int tx_bit1(cb_e1_tx_t *t, int m)
{
	if (!(m & 1))                           /* C1..C4 of the previous sub-multiframe */
		return (t->prev_crc >> (3 - (m % 8) / 2)) & 1;
	if (m <= 11)
		return (MFAS_PATTERN >> (5 - (m - 1) / 2)) & 1;
	if (t->ebits_zero)                      /* Annex B */
		return 0;
	if (t->ebit_pending > 0) {              /* E = 0 reports an errored sub-multiframe */
		t->ebit_pending--;
		return 0;
	}
	return 1;
}

int cb_e1_tx_frame(cb_e1_tx_t *t, const uint8_t *in, uint8_t *out, int nframes)
{
	if (!t || !in || !out || nframes < 0)
		return CB_LINE_EINVAL;
	if (in != out)
		memmove(out, in, (size_t)nframes * E1_FRAME_OCTETS);
	for (int i = 0; i < nframes; i++, t->count++) {
		uint8_t *f = out + (size_t)i * E1_FRAME_OCTETS;
		f[0] = (t->count & 1) ? (uint8_t)(TX_NFAS_FIXED | (t->rai ? NFAS_A : 0) | t->sa) : TX_FAS;
		if (!t->crc4)
			continue;
		int m = (int)(t->count % 16);
		f[0] = (uint8_t)((f[0] & 0x7F) | (tx_bit1(t, m) << 7));
		t->crc = crc4_frame(t->crc, f, !(m & 1));
		if (m % 8 == 7) {
			t->prev_crc = t->crc;
			t->crc = 0;
		}
	}
	return nframes;
}

/* ---------------------------------------------------------------- deframer */

cb_e1_rx_t *cb_e1_rx_new(void)
{
	crc4_init();
	cb_e1_rx_t *r = calloc(1, sizeof(cb_e1_rx_t));
	if (r)
		r->sa = -1;
	return r;
}

int cb_e1_rx_sa(const cb_e1_rx_t *r)
{
	return (r && r->state == E1_ALIGNED) ? r->sa : -1;
}

void cb_e1_rx_free(cb_e1_rx_t *r)
{
	free(r);
}

/* End of the raw bits held: the first stream bit not yet received. */
static uint64_t raw_end(const cb_e1_rx_t *r)
{
	return r->raw_base + 8u * r->raw_len;
}

/* The 8 stream bits starting at `bit` (all held), as an octet, first bit in the MSB. */
static uint8_t octet_at(const cb_e1_rx_t *r, uint64_t bit)
{
	size_t i = (size_t)((bit - r->raw_base) >> 3);
	unsigned s = (unsigned)(bit & 7);
	if (!s)
		return r->raw[i];
	return (uint8_t)((r->raw[i] << s) | (r->raw[i + 1] >> (8 - s)));
}

/* Are the n bits from `bit` on all held? */
static int have_bits(const cb_e1_rx_t *r, uint64_t bit, unsigned n)
{
	return bit + n <= raw_end(r);
}

static int is_fas(uint8_t ts0)
{
	return (ts0 & FAS_MASK) == FAS_WORD;
}

/* Output frame time of an aligned frame starting at stream bit b: one frame time late. */
static uint64_t out_time(uint64_t b)
{
	return b / E1_FRAME_BITS + 1;
}

static void lose_mf(cb_e1_rx_t *r)
{
	r->mf_aligned = 0;
	r->mfas_hist = 0;
	r->last_mfas_at = 0;
}

/* Give up alignment; the search restarts at stream bit `from`. */
static void lose_alignment(cb_e1_rx_t *r, uint64_t from, uint64_t last_frame)
{
	r->state = E1_SEARCH;
	r->pos = from;
	r->rai = 0;
	r->sa = -1;
	r->sa_run = 0;
	if (r->held >= E1_REF_FRAMES) {         /* a false alignment (lost within a few frames) says nothing */
		r->have_ref = 1;
		r->ref_start = last_frame;
	}
	lose_mf(r);
}

/* One aligned frame through the CRC-4 multiframe logic; returns 1 when the
 * 915-of-1000 rule (G.706 4.3.2) calls for a new frame search. */
static int crc4_frame_rx(cb_e1_rx_t *r, const uint8_t *f, int is_nfas)
{
	r->since_align++;
	int bit1 = f[0] >> 7;
	if (!r->mf_aligned) {
		r->mf_search++;
		if (!is_nfas)
			return 0;
		r->nfas_seen++;
		r->mfas_hist = (uint8_t)(((r->mfas_hist << 1) | bit1) & 0x3F);
		if (r->mfas_hist == MFAS_PATTERN && r->nfas_seen >= 6) {
			/* this NFAS was frame 11 of a multiframe; G.706 4.2: two MFAS within 8 ms,
			 * 2 ms or a multiple of 2 ms apart */
			uint64_t d = r->since_align - r->last_mfas_at;
			if (r->last_mfas_at && d % 16 == 0 && d <= MF_SEARCH_FRAMES - 16) {
				r->mf_aligned = 1;
				r->mfi = 12;
				r->far_no_crc4 = 0;
				r->mf_search = 0;
				r->ctr.mf_realignments++;
				r->cbits = 0;
				r->crc = 0;
				r->have_prev = -1;      /* the sub-multiframe in progress is only partly seen */
				return 0;
			}
			r->last_mfas_at = r->since_align;
		}
		if (r->crc4 == CB_E1_CRC4_AUTO && r->mf_search >= ANNEX_B_FRAMES)
			r->far_no_crc4 = 1;         /* Annex B: keep basic alignment, stop re-searching */
		if (!r->far_no_crc4 && r->since_align >= MF_SEARCH_FRAMES)
			return 1;                   /* 4.2: a spurious FAS; search again just after it */
		return 0;
	}
	int m = r->mfi;
	int research = 0;
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
				research = r->window_errors >= CRC_WINDOW_BAD;
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
	return research;
}

/* Put the aligned frame starting at stream bit b into the output FIFO. */
static uint8_t *push_frame(cb_e1_rx_t *r, uint64_t b)
{
	uint64_t t = out_time(b);
	int k = (int)(t % E1_OUT_RING);
	if (t < r->frame_time) {                /* its output time has passed (cannot happen: see e1.h) */
		r->ctr.slips++;
		return NULL;
	}
	if (r->fifo_tag[k] == t + 1)            /* overflow: two frames for one output time */
		r->ctr.slips++;
	uint8_t *f = r->fifo[k];
	for (int i = 0; i < E1_FRAME_OCTETS; i++)
		f[i] = octet_at(r, b + 8u * (unsigned)i);
	r->fifo_tag[k] = t + 1;
	r->fifo_start[k] = b;
	return f;
}

/* Alignment gained: the first aligned frame starts at stream bit b. */
static void gain_alignment(cb_e1_rx_t *r, uint64_t b)
{
	if (r->have_ref && b > r->ref_start) {
		/* the frame of the last alignment's frame clock nearest to b */
		uint64_t k = (b - r->ref_start + E1_FRAME_BITS / 2) / E1_FRAME_BITS;
		if (out_time(b) != out_time(r->ref_start + k * E1_FRAME_BITS))
			r->ctr.slips++;                 /* a frame lost or repeated against the far end */
	}
	if (r->ever_aligned)
		r->ctr.realignments++;
	r->ever_aligned = 1;
	r->state = E1_ALIGNED;
	r->held = 0;
	r->pos = b;
	r->nfas_next = 0;
	r->bad_fas = 0;
	r->ais = 0;                             /* G.775: a FAS found clears AIS */
	r->ais_periods = 0;
	lose_mf(r);
	r->since_align = 0;
	r->nfas_seen = 0;
}

/* One aligned frame at r->pos (all held). */
static void follow_frame(cb_e1_rx_t *r)
{
	uint64_t b = r->pos;
	uint8_t ts0 = octet_at(r, b);
	if (!r->nfas_next) {
		if (!is_fas(ts0)) {
			r->ctr.fas_errors++;
			if (++r->bad_fas >= LOF_BAD_FAS) {      /* G.706 4.1.1 */
				lose_alignment(r, b + 1, b);
				return;
			}
		} else {
			r->bad_fas = 0;
		}
	} else {
		if (!(ts0 & NFAS_BIT2))
			r->ctr.nfas_errors++;
		r->rai = (ts0 & NFAS_A) ? 1 : 0;
		int sa = ts0 & 0x1F;
		r->sa_run = sa == r->sa_last ? r->sa_run + 1 : 1;
		r->sa_last = sa;
		if (r->sa_run >= SA_PERSIST)
			r->sa = sa;
	}
	uint8_t *f = push_frame(r, b);
	r->ctr.frames++;
	r->held++;
	if (r->crc4 && f && crc4_frame_rx(r, f, r->nfas_next)) {
		lose_alignment(r, b + 1, b);            /* G.706 4.3.2: search again just after it */
		return;
	}
	r->nfas_next ^= 1;
	r->pos = b + E1_FRAME_BITS;
}

/* Run the alignment machine as far as the held bits go. */
static void align(cb_e1_rx_t *r)
{
	for (;;) {
		switch (r->state) {
		case E1_SEARCH:
			if (!have_bits(r, r->pos, 8))
				return;
			if (is_fas(octet_at(r, r->pos)))
				r->state = E1_CONFIRM;
			else
				r->pos++;
			break;
		case E1_CONFIRM:
			/* G.706 4.1.2: FAS in n (at pos), NFAS bit 2 = 1 in n+1, FAS in n+2 */
			if (!have_bits(r, r->pos + 2 * E1_FRAME_BITS, 8))
				return;
			if ((octet_at(r, r->pos + E1_FRAME_BITS) & NFAS_BIT2) &&
			    is_fas(octet_at(r, r->pos + 2 * E1_FRAME_BITS))) {
				gain_alignment(r, r->pos + 2 * E1_FRAME_BITS);
			} else {
				/* new search in frame n+2, from the bit after the rejected phase */
				r->pos += 2 * E1_FRAME_BITS + 1;
				r->state = E1_SEARCH;
			}
			break;
		default:
			if (!have_bits(r, r->pos, E1_FRAME_BITS))
				return;
			follow_frame(r);
			break;
		}
	}
}

/* G.775 AIS: one 512-bit period ended with `zeros` zeros in it. */
static void ais_period(cb_e1_rx_t *r, uint32_t zeros)
{
	if (zeros <= AIS_MAX_ZEROS) {
		r->ok_periods = 0;
		r->ais_periods++;
		if (r->ais_periods >= 2 && !r->ais && r->state != E1_ALIGNED && !r->los) {
			r->ais = 1;
			r->ctr.ais_events++;
			r->have_ref = 0;                /* the far end's phase is gone */
		}
	} else {
		r->ais_periods = 0;
		if (++r->ok_periods >= 2)
			r->ais = 0;
	}
}

static void set_los(cb_e1_rx_t *r, int los)
{
	if (los && !r->los) {
		r->ctr.los_events++;
		r->mf_search = 0;                       /* a new connection: Annex B starts again */
		if (r->state == E1_ALIGNED)
			lose_alignment(r, r->pos, r->pos);
		r->have_ref = 0;
		r->ais = 0;
	}
	r->los = los;
}

/* Whether any of the 32 octets in w is zero (the classic word trick, 8 octets at a time). */
static int has_zero_octet(const uint64_t *w)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	for (int k = 0; k < 4; k++)
		if ((w[k] - lo) & ~w[k] & hi)
			return 1;
	return 0;
}

/* Zeros after the last one of a nonzero octet. */
static uint32_t trailing_zeros(uint8_t o)
{
	uint32_t n = 0;
	while (!(o & 1)) {
		o >>= 1;
		n++;
	}
	return n;
}

/* Zeros before the first one of a nonzero octet. */
static uint32_t leading_zeros(uint8_t o)
{
	uint32_t n = 0;
	while (!(o & 0x80)) {
		o = (uint8_t)(o << 1);
		n++;
	}
	return n;
}

/* Drop the held octets the machine no longer needs, then append one frame time. */
static void take_frame_time(cb_e1_rx_t *r, const uint8_t *raw)
{
	size_t drop = (size_t)((r->pos - r->raw_base) >> 3);
	if (drop > r->raw_len)
		drop = r->raw_len;
	memmove(r->raw, r->raw + drop, r->raw_len - drop);
	r->raw_len -= drop;
	r->raw_base += 8u * drop;
	if (r->raw_len + E1_FRAME_OCTETS > E1_RAW_KEEP) {
		/* the machine always consumes to within 66 octets of the end; be safe anyway */
		r->raw_base += 8u * r->raw_len;
		r->raw_len = 0;
		if (r->state == E1_ALIGNED)
			lose_alignment(r, r->raw_base, r->pos);
		r->state = E1_SEARCH;
		r->pos = r->raw_base;
	}
	memcpy(r->raw + r->raw_len, raw, E1_FRAME_OCTETS);
	r->raw_len += E1_FRAME_OCTETS;
	r->raw[r->raw_len] = 0;
}

int cb_e1_rx_deframe(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes)
{
	return cb_e1_rx_deframe_at(r, raw, out, nframes, NULL);
}

int cb_e1_rx_deframe_at(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes, int64_t *starts)
{
	if (!r || !raw || !out || nframes < 0)
		return CB_LINE_EINVAL;
	size_t n = (size_t)nframes * E1_FRAME_OCTETS;
	int any_one = 0;
	for (size_t i = 0; i < n && !any_one; i++)
		any_one = raw[i] != 0;
	if (nframes && !any_one)
		set_los(r, 1);                          /* a whole call without pulses */
	for (int j = 0; j < nframes; j++, r->frame_time++) {
		const uint8_t *x = raw + (size_t)j * E1_FRAME_OCTETS;
		take_frame_time(r, x);
		/* 1. defects on the new bits; LOS: raised by 2048 zeros (or a call without
		 * ones, above), cleared by a one */
		uint64_t w[4];
		memcpy(w, x, sizeof(w));
		int ones = __builtin_popcountll(w[0]) + __builtin_popcountll(w[1]) +
			   __builtin_popcountll(w[2]) + __builtin_popcountll(w[3]);
		r->period_zeros += (uint32_t)(8 * E1_FRAME_OCTETS - ones);
		if (!has_zero_octet(w) && (r->zero_run + 7 < LOS_ZEROS)) {
			/* the usual case: a one in every octet, so no run of 2048 zeros starts or
			 * ends here; only the zeros after the last one carry on */
			set_los(r, 0);
			r->zero_run = (uint32_t)__builtin_ctz(x[E1_FRAME_OCTETS - 1]);
		} else for (int i = 0; i < E1_FRAME_OCTETS; i++) {
			uint8_t o = x[i];
			if (o) {
				if (r->zero_run + 7 >= LOS_ZEROS && r->zero_run + leading_zeros(o) >= LOS_ZEROS)
					set_los(r, 1);  /* a run of 2048 ended inside this octet */
				set_los(r, 0);          /* pulses are back */
				r->zero_run = trailing_zeros(o);
			} else if (r->zero_run < LOS_ZEROS) {
				r->zero_run += 8;
				if (r->zero_run >= LOS_ZEROS)
					set_los(r, 1);
			}
		}
		/* 2. alignment */
		if (!r->los) {
			align(r);
		} else {                                /* nothing to align to: drop the zeros */
			r->state = E1_SEARCH;
			r->pos = raw_end(r);
		}
		if (r->frame_time % AIS_PERIOD_FRAMES == AIS_PERIOD_FRAMES - 1) {
			ais_period(r, r->period_zeros);
			r->period_zeros = 0;
		}
		/* 3. the output frame of this frame time */
		uint8_t *o = out + (size_t)j * E1_FRAME_OCTETS;
		int k = (int)(r->frame_time % E1_OUT_RING);
		if (r->fifo_tag[k] == r->frame_time + 1) {
			memcpy(o, r->fifo[k], E1_FRAME_OCTETS);
			r->fifo_tag[k] = 0;
			if (starts)
				starts[j] = (int64_t)r->fifo_start[k];
		} else {
			memset(o, 0xFF, E1_FRAME_OCTETS);
			if (starts)
				starts[j] = -1;
		}
	}
	return nframes;
}

void cb_e1_rx_set_crc4(cb_e1_rx_t *r, int on)
{
	cb_e1_rx_set_crc4_mode(r, on ? CB_E1_CRC4_AUTO : CB_E1_CRC4_OFF);
}

int cb_e1_rx_set_crc4_mode(cb_e1_rx_t *r, int mode)
{
	if (!r || mode < CB_E1_CRC4_OFF || mode > CB_E1_CRC4_AUTO)
		return CB_LINE_EINVAL;
	r->crc4 = mode;
	r->far_no_crc4 = 0;
	r->mf_search = 0;
	lose_mf(r);
	return 0;
}

int cb_e1_rx_take_crc_errors(cb_e1_rx_t *r)
{
	int n = r->crc_errors_new;
	r->crc_errors_new = 0;
	return n;
}

void cb_e1_rx_status(const cb_e1_rx_t *r, cb_e1_status_t *st)
{
	int aligned = r->state == E1_ALIGNED;
	st->lomf = r->crc4 && aligned && !r->mf_aligned;
	st->far_no_crc4 = r->crc4 && r->far_no_crc4;
	st->los = r->los;
	st->ais = r->ais && !r->los;
	st->aligned = aligned;
	st->lof = !aligned && !r->los;
	st->rai = aligned ? r->rai : 0;
}

void cb_e1_rx_counters(const cb_e1_rx_t *r, cb_e1_counters_t *c)
{
	*c = r->ctr;
}

void cb_e1_rx_reset_counters(cb_e1_rx_t *r)
{
	memset(&r->ctr, 0, sizeof(r->ctr));
}

/* ---------------------------------------------------------------- payload */

void cb_e1_payload_insert(uint8_t *frames, const uint8_t *payload, int n)
{
	for (int f = 0; f < n; f++, payload += 30) {
		memcpy(frames + (size_t)f * E1_FRAME_OCTETS + 1, payload, 15);
		memcpy(frames + (size_t)f * E1_FRAME_OCTETS + 17, payload + 15, 15);
	}
}

void cb_e1_payload_extract(const uint8_t *frames, uint8_t *payload, int n)
{
	for (int f = 0; f < n; f++, payload += 30) {
		memcpy(payload, frames + (size_t)f * E1_FRAME_OCTETS + 1, 15);
		memcpy(payload + 15, frames + (size_t)f * E1_FRAME_OCTETS + 17, 15);
	}
}
