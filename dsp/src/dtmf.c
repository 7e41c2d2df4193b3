/* DTMF receiver bank. The method and the figures it meets are in callbox/dtmf.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "private/bank.h"
#include "private/dtmf.h"

static const double dtmf_freq[DTMF_TONES] = {697, 770, 852, 941, 1209, 1336, 1477, 1633}; /* Q.23 */
static const char dtmf_keys[4][4] = {
	{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

#define PI 3.14159265358979323846
#define MIN_TONE_DBM0 -42.0     /* weakest tone of a candidate block */
/* A block is a candidate under loose limits (its measures carry the loss of a tone up to
 * 1.5 % off its bin, and leakage from the other tone); the two blocks that accept a digit
 * pass strict ones, measured with that loss taken back out. */
#define CAND_TWIST_NORMAL_DB 14.0   /* high - low down to -14 dB */
#define CAND_TWIST_REVERSE_DB 8.0   /* ... up to +8 dB */
#define CAND_REL_PEAK_DB 4.0    /* each tone beats the other bins of its group by this */
#define CAND_PAIR_SHARE 0.5     /* the two tones carry this share of the block's energy */
#define TWIST_NORMAL_DB 10.5    /* accepted: 8 dB normal twist must pass */
#define TWIST_REVERSE_DB 6.0    /* accepted: 4 dB reverse twist must pass */
#define PAIR_SHARE 0.75         /* accepted: the tones' share of the energy of both blocks */
#define FREQ_TOL 0.020          /* accept within 2 %: operate at 1.5 % (1.8 % passes), reject at 3.5 % */
#define PAIR_BALANCE 0.75f      /* strict checks run on two blocks of about equal strength:
                                 * both (nearly) full, as the frequency measure needs */
#define MIN_COVER 2.45f         /* duration in blocks: 31 ms, between 23 and 40 ms */
#define ABSENT_AMP 0.2f         /* a held tone this far down (-14 dB) is gone from the block */
#define RELEASE_BLOCKS 2        /* consecutive such blocks end the digit */

static float db_ratio(double db)
{
	return (float)pow(10.0, db / 10.0);
}

int cb_dtmf_bank_new(cb_dtmf_bank_t **bank, int nchan)
{
	cb_dtmf_bank_t *b;
	void *ch;
	int rc = cb_bank_alloc((void **)&b, sizeof(*b), &ch, sizeof(*b->ch), nchan);
	if (rc)
		return rc;
	b->ch = ch;
	b->nchan = nchan;
	for (int i = 0; i < DTMF_TONES; i++) {
		double w = 2.0 * PI * dtmf_freq[i] / CB_DSP_RATE;
		b->coef[i] = (float)(2.0 * cos(w));
		b->cos_w[i] = (float)cos(w);
		b->sin_w[i] = (float)sin(w);
		b->cos_half[i] = (float)cos(w * DTMF_HALF);
		b->sin_half[i] = (float)sin(w * DTMF_HALF);
		b->cos_block[i] = (float)cos(w * DTMF_BLOCK);
		b->sin_block[i] = (float)sin(w * DTMF_BLOCK);
	}
	/* a sine of peak A over N samples gives a Goertzel power of (A N / 2)^2 */
	double a = CB_DSP_PEAK_0DBM0 * pow(10.0, MIN_TONE_DBM0 / 20.0) * DTMF_BLOCK / 2.0;
	b->min_power = (float)(a * a);
	b->cand_normal = db_ratio(-CAND_TWIST_NORMAL_DB);
	b->cand_reverse = db_ratio(CAND_TWIST_REVERSE_DB);
	b->cand_rel_peak = db_ratio(CAND_REL_PEAK_DB);
	for (int ch = 0; ch < nchan; ch++)
		cb_dtmf_reset(b, ch);
	*bank = b;
	return 0;
}

void cb_dtmf_bank_free(cb_dtmf_bank_t *bank)
{
	if (bank) {
		free(bank->ch);
		free(bank);
	}
}

int cb_dtmf_reset(cb_dtmf_bank_t *bank, int chan)
{
	if (!bank)
		return CB_EINVAL;
	if (chan < 0 || chan >= bank->nchan)
		return CB_ECHAN;
	cb_dtmf_chan_t *c = &bank->ch[chan];
	memset(c, 0, sizeof(*c));
	c->run_row = c->run_col = -1;
	c->held_row = c->held_col = -1;
	return 0;
}

int cb_dtmf_max_events(const cb_dtmf_bank_t *bank, int nsamples)
{
	if (!bank || nsamples < 0 || nsamples > INT32_MAX / 2)
		return CB_EINVAL;
	/* a channel accepts at most one digit per finished block */
	long long n = (long long)bank->nchan * (nsamples / DTMF_BLOCK + 1);
	return n > INT32_MAX ? CB_EINVAL : (int)n;
}

/* The digit a finished block is a candidate for: sets *row, *col (col 4..7) and returns 1,
 * or returns 0. */
static int classify(const cb_dtmf_bank_t *b, const float *p, float energy, int *row, int *col)
{
	int r = 0, k = 4;
	for (int i = 1; i < 4; i++) {
		if (p[i] > p[r])
			r = i;
		if (p[4 + i] > p[k])
			k = 4 + i;
	}
	if (p[r] < b->min_power || p[k] < b->min_power)
		return 0;
	/* twist = high - low in dB */
	if (p[k] < p[r] * b->cand_normal || p[k] > p[r] * b->cand_reverse)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (i != r && p[i] * b->cand_rel_peak > p[r])
			return 0;
		if (4 + i != k && p[4 + i] * b->cand_rel_peak > p[k])
			return 0;
	}
	/* a tone's energy over the block is 2 |X|^2 / N */
	if (2.0f * (p[r] + p[k]) / DTMF_BLOCK < (float)CAND_PAIR_SHARE * energy)
		return 0;
	*row = r;
	*col = k;
	return 1;
}

/* Offset of tone i from nominal, in Hz, from this block (x) and the one before (prev). */
static double tone_offset(const cb_dtmf_bank_t *b, const cb_dtmf_chan_t *c,
			  const float *x_re, const float *x_im, int i)
{
	/* For a tone at w + d, X_block * conj(X_previous) turns by (w + d) N; taking the
	 * turn of w N off leaves d N, known modulo 2 pi, so d modulo 2 pi / N (78.4 Hz). */
	double zr = (double)x_re[i] * c->prev_re[i] + (double)x_im[i] * c->prev_im[i];
	double zi = (double)x_im[i] * c->prev_re[i] - (double)x_re[i] * c->prev_im[i];
	double fine = atan2(zi * b->cos_block[i] - zr * b->sin_block[i],
			    zr * b->cos_block[i] + zi * b->sin_block[i]) * CB_DSP_RATE / (2.0 * PI * DTMF_BLOCK);
	/* Second half against the first: the same over 51 samples, modulo 156.9 Hz. The
	 * second half's result is the block's minus the first half's turned by w 51. */
	double hr = c->half_re[i], hi = c->half_im[i];
	double sr = x_re[i] - (hr * b->cos_half[i] - hi * b->sin_half[i]);
	double si = x_im[i] - (hr * b->sin_half[i] + hi * b->cos_half[i]);
	zr = sr * hr + si * hi;
	zi = si * hr - sr * hi;
	double rough = atan2(zi * b->cos_half[i] - zr * b->sin_half[i],
			     zr * b->cos_half[i] + zi * b->sin_half[i]) * CB_DSP_RATE / (2.0 * PI * DTMF_HALF);
	double step = (double)CB_DSP_RATE / DTMF_BLOCK;
	return fine + step * nearbyint((rough - fine) / step);
}

/* Gain of a 102-sample Goertzel bin for a tone off it by df Hz (1 on the bin). */
static double bin_gain(double df)
{
	double d = 2.0 * PI * df / CB_DSP_RATE;
	if (fabs(d) < 1e-9)
		return 1.0;
	return fabs(sin(d * DTMF_BLOCK / 2.0) / (DTMF_BLOCK * sin(d / 2.0)));
}

/* The strict checks over this block and the one before, both candidates for (row, col):
 * frequencies within FREQ_TOL, then twist and energy share measured on the tones'
 * powers with the bin's loss for their measured offset taken out. */
static int pair_ok(const cb_dtmf_bank_t *b, const cb_dtmf_chan_t *c,
		   const float *x_re, const float *x_im, const float *p, float energy, int row, int col)
{
	double df_row = tone_offset(b, c, x_re, x_im, row);
	double df_col = tone_offset(b, c, x_re, x_im, col);
	if (fabs(df_row) > FREQ_TOL * dtmf_freq[row] || fabs(df_col) > FREQ_TOL * dtmf_freq[col])
		return 0;
	double g_row = bin_gain(df_row), g_col = bin_gain(df_col);
	double p_row = ((double)p[row] + c->prev_power[row]) / (g_row * g_row);
	double p_col = ((double)p[col] + c->prev_power[col]) / (g_col * g_col);
	double twist = 10.0 * log10(p_col / p_row);
	if (twist < -TWIST_NORMAL_DB || twist > TWIST_REVERSE_DB)
		return 0;
	return 2.0 * (p_row + p_col) / DTMF_BLOCK >= PAIR_SHARE * ((double)energy + c->prev_energy);
}

/* Accept the run's digit if it qualifies; trail is the pair amplitude of the block after
 * the run (0 while the run goes on). Returns 1 when it produced an event. */
static int try_accept(cb_dtmf_chan_t *c, float trail)
{
	if (c->run_accepted || c->held_row >= 0 || c->run_blocks < 2 || !c->run_pair_ok)
		return 0;
	float m = c->run_max;
	float cover = c->run_sum + fminf(c->run_lead, m) + fminf(trail, m);
	if (cover < MIN_COVER * m)
		return 0;
	c->run_accepted = 1;
	c->held_row = c->run_row;
	c->held_col = c->run_col;
	c->ref_row = c->run_max_row;
	c->ref_col = c->run_max_col;
	c->absent = 0;
	return 1;
}

static int is_absent(const cb_dtmf_chan_t *c, const float *p)
{
	return sqrtf(p[c->held_row]) < ABSENT_AMP * c->ref_row ||
	       sqrtf(p[c->held_col]) < ABSENT_AMP * c->ref_col;
}

/* A block has ended: decide, write an event if a digit is accepted, start the next block.
 * Returns 1 if it wrote an event. */
static int block_done(const cb_dtmf_bank_t *b, cb_dtmf_chan_t *c, cb_dtmf_event_t *ev)
{
	float x_re[DTMF_TONES], x_im[DTMF_TONES], p[DTMF_TONES];
	for (int i = 0; i < DTMF_TONES; i++) {
		/* complex Goertzel result: s[n] - e^{-jw} s[n-1] */
		x_re[i] = c->s1[i] - b->cos_w[i] * c->s2[i];
		x_im[i] = b->sin_w[i] * c->s2[i];
		p[i] = x_re[i] * x_re[i] + x_im[i] * x_im[i];
	}
	int row = -1, col = -1;
	int cand = classify(b, p, c->energy, &row, &col);
	int accepted = 0;

	/* 1. the held digit ends after enough blocks without it */
	if (c->held_row >= 0) {
		if (is_absent(c, p)) {
			if (++c->absent >= RELEASE_BLOCKS)
				c->held_row = c->held_col = -1;
		} else {
			c->absent = 0;
		}
	}

	/* 2. runs of candidate blocks */
	int in_run = cand && row == c->run_row && col == c->run_col;
	if (!in_run && c->run_row >= 0) {
		/* this block follows the run: it counts by the share of it the tone covers */
		int was_held = c->held_row >= 0;
		accepted = try_accept(c, sqrtf(p[c->run_row] + p[c->run_col]));
		if (accepted && !was_held && is_absent(c, p))
			c->absent = 1;
		c->run_row = c->run_col = -1;
	}
	float amp_row = cand ? sqrtf(p[row]) : 0.0f, amp_col = cand ? sqrtf(p[col]) : 0.0f;
	float amp = cand ? sqrtf(p[row] + p[col]) : 0.0f;
	if (in_run) {
		c->run_blocks++;
		c->run_sum += amp;
		c->run_max = fmaxf(c->run_max, amp);
		c->run_max_row = fmaxf(c->run_max_row, amp_row);
		c->run_max_col = fmaxf(c->run_max_col, amp_col);
		float prev_amp = sqrtf(c->prev_power[row] + c->prev_power[col]);
		if (!c->run_pair_ok && fminf(amp, prev_amp) >= PAIR_BALANCE * fmaxf(amp, prev_amp))
			c->run_pair_ok = pair_ok(b, c, x_re, x_im, p, c->energy, row, col);
		if (!accepted)
			accepted = try_accept(c, 0.0f);
		if (c->run_accepted && c->held_row == row && c->held_col == col) {
			c->ref_row = fmaxf(c->ref_row, amp_row);
			c->ref_col = fmaxf(c->ref_col, amp_col);
		}
	} else if (cand) {
		c->run_row = row;
		c->run_col = col;
		c->run_blocks = 1;
		c->run_pair_ok = 0;
		c->run_accepted = 0;
		c->run_sum = amp;
		c->run_max = amp;
		c->run_max_row = amp_row;
		c->run_max_col = amp_col;
		c->run_lead = sqrtf(c->prev_re[row] * c->prev_re[row] + c->prev_im[row] * c->prev_im[row] +
				    c->prev_re[col] * c->prev_re[col] + c->prev_im[col] * c->prev_im[col]);
	}
	if (accepted)
		ev->digit = dtmf_keys[c->held_row][c->held_col - 4];

	/* 3. the next block */
	memcpy(c->prev_re, x_re, sizeof(x_re));
	memcpy(c->prev_im, x_im, sizeof(x_im));
	memcpy(c->prev_power, p, sizeof(p));
	c->prev_energy = c->energy;
	memset(c->s1, 0, sizeof(c->s1));
	memset(c->s2, 0, sizeof(c->s2));
	c->energy = 0.0f;
	c->pos = 0;
	return accepted;
}

int cb_dtmf_process(cb_dtmf_bank_t *bank, const int16_t *in, int nsamples,
		    cb_dtmf_event_t *ev, int max_ev)
{
	int need = cb_dtmf_max_events(bank, nsamples);
	if (need < 0)
		return need;
	if (nsamples > 0 && !in)
		return CB_EINVAL;
	if (max_ev < need || (need > 0 && !ev))
		return CB_ESPACE;
	const cb_dtmf_bank_t *b = bank;
	int nev = 0;
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_dtmf_chan_t *c = &bank->ch[ch];
		const int16_t *x = in + (size_t)ch * (size_t)nsamples;
		int n = 0;
		while (n < nsamples) {
			/* run the filters up to the next half or block boundary */
			int stop = c->pos < DTMF_HALF ? DTMF_HALF : DTMF_BLOCK;
			int run = stop - c->pos;
			if (run > nsamples - n)
				run = nsamples - n;
			float s1[DTMF_TONES], s2[DTMF_TONES];
			memcpy(s1, c->s1, sizeof(s1));
			memcpy(s2, c->s2, sizeof(s2));
			float energy = c->energy;
			for (int k = 0; k < run; k++) {
				float v = (float)x[n + k];
				energy += v * v;
				for (int i = 0; i < DTMF_TONES; i++) {
					float s0 = v + b->coef[i] * s1[i] - s2[i];
					s2[i] = s1[i];
					s1[i] = s0;
				}
			}
			memcpy(c->s1, s1, sizeof(s1));
			memcpy(c->s2, s2, sizeof(s2));
			c->energy = energy;
			c->pos += run;
			n += run;
			if (c->pos == DTMF_HALF) {
				for (int i = 0; i < DTMF_TONES; i++) {
					c->half_re[i] = s1[i] - b->cos_w[i] * s2[i];
					c->half_im[i] = b->sin_w[i] * s2[i];
				}
			} else if (c->pos == DTMF_BLOCK && block_done(b, c, &ev[nev])) {
				ev[nev].chan = ch;
				ev[nev].offset = n - 1;
				nev++;
			}
		}
	}
	return nev;
}
