/* DTMF receiver bank (Goertzel) and tone generator bank. See callbox/dsp.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "private/dtmf.h"

static const float dtmf_freq[8] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
static const char dtmf_keys[4][4] = {
	{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

#define REF_PEAK_0DBM0 22865.0   /* A-law: full-scale sine is +3.14 dBm0 */
#define MIN_LEVEL_DBM0 -42.0     /* weakest tone accepted */
#define TWIST_NORMAL_DB 9.5      /* 8 dB required + measurement margin */
#define TWIST_REVERSE_DB 5.5     /* 4 dB required + measurement margin */
#define REL_PEAK_DB 6.0          /* a tone beats the others of its group by this */
#define MIN_PAIR_SHARE 0.5f      /* the two tones carry this share of the block energy */
#define MIN_HALF_BALANCE 0.7f    /* both halves of a block carry the tone: a block only partly
                                  * covered (a tone's start or end) is no candidate, so two
                                  * candidates need >= 102 + 92 samples: 23 ms is too short */
#define OFF_ENERGY 0.1f          /* a block under this share of the accepted energy is a pause */
#define SIDE_BIN 0.05            /* frequency check: bins at +-5 % of each DTMF frequency */
#define SIDE_MARGIN 1.0f         /* over 204 samples the nominal bin must beat both side bins:
                                  * true for a tone within about +-2.5 % (Q.24: operate at
                                  * 1.5 %, not at 3.5 %) */
#define MAX_MISSES 4             /* release even without a pause after this many bad blocks */

cb_dtmf_rx_bank_t *cb_dtmf_rx_bank_new(int nchan)
{
	if (nchan < 1 || nchan > 65536)
		return NULL;
	cb_dtmf_rx_bank_t *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->ch = calloc((size_t)nchan, sizeof(*b->ch));
	if (!b->ch) {
		free(b);
		return NULL;
	}
	b->nchan = nchan;
	for (int i = 0; i < NBINS; i++) {
		double scale = i < 8 ? 1.0 : i < 16 ? 1.0 - SIDE_BIN : 1.0 + SIDE_BIN;
		double w = 2.0 * M_PI * dtmf_freq[i % 8] * scale / 8000.0;
		b->coef[i] = (float)(2.0 * cos(w));
		b->cw[i] = (float)cos(w);
		b->sw[i] = (float)sin(w);
		b->cwn[i] = (float)cos(w * DTMF_BLOCK);
		b->swn[i] = (float)sin(w * DTMF_BLOCK);
	}
	/* Goertzel power of a sine of peak A over N samples is (A N / 2)^2 */
	double a = REF_PEAK_0DBM0 * pow(10.0, MIN_LEVEL_DBM0 / 20.0);
	b->min_power = (float)((a * DTMF_BLOCK / 2) * (a * DTMF_BLOCK / 2));
	return b;
}

void cb_dtmf_rx_bank_free(cb_dtmf_rx_bank_t *b)
{
	if (b) {
		free(b->ch);
		free(b);
	}
}

int cb_dtmf_rx_reset(cb_dtmf_rx_bank_t *b, int chan)
{
	if (!b || chan < 0 || chan >= b->nchan)
		return CB_DSP_EINVAL;
	memset(&b->ch[chan], 0, sizeof(b->ch[chan]));
	return CB_DSP_OK;
}

static float goertzel_power(float s1, float s2, float coef)
{
	return s1 * s1 + s2 * s2 - coef * s1 * s2;
}

/* Power over the last two blocks (204 samples) of bin i: the earlier block's complex result
 * plus the current one's, rotated by one block's phase advance. With A = s1 - e^{-jw} s2,
 * a block's DFT is e^{-jw(N-1)} A, so |X_204|^2 = |A_prev + e^{-jwN} A_cur|^2. */
static float two_block_power(const cb_dtmf_rx_bank_t *b, const cb_dtmf_chan_t *c, int i)
{
	float are = c->s1[i] - b->cw[i] * c->s2[i], aim = b->sw[i] * c->s2[i];
	float re = c->pre[i] + b->cwn[i] * are + b->swn[i] * aim;
	float im = c->pim[i] + b->cwn[i] * aim - b->swn[i] * are;
	return re * re + im * im;
}

/* Both tones of the digit sit within about +-2.5 % of nominal (checked over 204 samples:
 * four times the resolution of one block, and the other tone's leakage is negligible). */
static int frequencies_ok(const cb_dtmf_rx_bank_t *b, const cb_dtmf_chan_t *c, char d)
{
	for (int r = 0; r < 4; r++)
		for (int k = 0; k < 4; k++)
			if (dtmf_keys[r][k] == d) {
				int tones[2] = {r, 4 + k};
				for (int t = 0; t < 2; t++) {
					float mid = two_block_power(b, c, tones[t]);
					if (two_block_power(b, c, 8 + tones[t]) > SIDE_MARGIN * mid ||
					    two_block_power(b, c, 16 + tones[t]) > SIDE_MARGIN * mid)
						return 0;
				}
				return 1;
			}
	return 0;
}

/* Decide what one finished block holds: a digit or 0. */
static char classify(const cb_dtmf_rx_bank_t *b, const cb_dtmf_chan_t *c)
{
	float p[8];
	for (int i = 0; i < 8; i++)
		p[i] = goertzel_power(c->s1[i], c->s2[i], b->coef[i]);
	int r = 0, k = 4;
	for (int i = 1; i < 4; i++) {
		if (p[i] > p[r])
			r = i;
		if (p[4 + i] > p[k])
			k = 4 + i;
	}
	if (p[r] < b->min_power || p[k] < b->min_power)
		return 0;
	/* twist = high - low: normal (low stronger) to -TWIST_NORMAL, reverse to +TWIST_REVERSE */
	float twist = 10.0f * log10f(p[k] / p[r]);
	if (twist < -TWIST_NORMAL_DB || twist > TWIST_REVERSE_DB)
		return 0;
	float rel = powf(10.0f, REL_PEAK_DB / 10.0f);
	for (int i = 0; i < 4; i++) {
		if (i != r && p[i] * rel > p[r])
			return 0;
		if (4 + i != k && p[4 + i] * rel > p[k])
			return 0;
	}
	/* tone energy estimate 2|X|^2/N against the block's energy */
	float pair = 2.0f * (p[r] + p[k]) / DTMF_BLOCK;
	if (pair < MIN_PAIR_SHARE * c->energy)
		return 0;
	float h1 = c->energy_half, h2 = c->energy - c->energy_half;
	if (h1 < MIN_HALF_BALANCE * h2 || h2 < MIN_HALF_BALANCE * h1)
		return 0;
	return dtmf_keys[r][k - 4];
}

int cb_dtmf_rx(cb_dtmf_rx_bank_t *b, const int16_t *in, int nsamp, cb_dtmf_event_t *ev, int max_ev)
{
	if (!b || !in || nsamp < 0 || (max_ev > 0 && !ev))
		return CB_DSP_EINVAL;
	int nev = 0;
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_dtmf_chan_t *c = &b->ch[ch];
		const int16_t *x = in + (size_t)ch * (size_t)nsamp;
		for (int n = 0; n < nsamp; n++) {
			float v = (float)x[n];
			c->energy += v * v;
			if (c->pos == DTMF_BLOCK / 2 - 1)
				c->energy_half = c->energy;
			for (int i = 0; i < NBINS; i++) {
				float s0 = v + b->coef[i] * c->s1[i] - c->s2[i];
				c->s2[i] = c->s1[i];
				c->s1[i] = s0;
			}
			if (++c->pos < DTMF_BLOCK)
				continue;
			char d = classify(b, c);
			if (c->held) {
				/* a break of 10 ms leaves tone in every block it touches; a 40 ms
				 * pause holds at least two silent blocks */
				if (d == c->held) {
					c->misses = 0;
					c->off_seen = 0;
				} else {
					c->misses++;
					if (c->energy < OFF_ENERGY * c->held_energy)
						c->off_seen = 1;
					if ((c->misses >= 2 && c->off_seen) || c->misses >= MAX_MISSES) {
						c->held = 0;
						c->misses = 0;
						c->off_seen = 0;
					}
				}
			} else if (d && d == c->candidate && frequencies_ok(b, c, d)) {
				c->held = d;
				c->held_energy = c->energy;
				c->misses = 0;
				c->off_seen = 0;
				if (nev < max_ev) {
					ev[nev].chan = ch;
					ev[nev].digit = d;
					ev[nev].offset = n;
					nev++;
				} else {
					return CB_DSP_EFULL;
				}
			}
			c->candidate = d;
			for (int i = 0; i < NBINS; i++) {
				c->pre[i] = c->s1[i] - b->cw[i] * c->s2[i];
				c->pim[i] = b->sw[i] * c->s2[i];
			}
			memset(c->s1, 0, sizeof(c->s1));
			memset(c->s2, 0, sizeof(c->s2));
			c->energy = 0.0f;
			c->energy_half = 0.0f;
			c->pos = 0;
		}
	}
	return nev;
}

/* -- generator ------------------------------------------------------------- */

cb_tone_bank_t *cb_tone_bank_new(int nchan)
{
	if (nchan < 1 || nchan > 65536)
		return NULL;
	cb_tone_bank_t *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->ch = calloc((size_t)nchan, sizeof(*b->ch));
	if (!b->ch) {
		free(b);
		return NULL;
	}
	b->nchan = nchan;
	for (int i = 0; i < 1024; i++)
		b->sine[i] = (int16_t)lrint(32767.0 * sin(2.0 * M_PI * i / 1024.0));
	return b;
}

void cb_tone_bank_free(cb_tone_bank_t *b)
{
	if (b) {
		free(b->ch);
		free(b);
	}
}

static uint32_t phase_inc(double f)
{
	return (uint32_t)llround(f / 8000.0 * 4294967296.0);
}

static int level_amp(double dbm0)
{
	double a = REF_PEAK_0DBM0 * pow(10.0, dbm0 / 20.0);
	return a > 32767.0 ? 32767 : (int)lrint(a);
}

static int dtmf_index(char d, int *row, int *col)
{
	for (int r = 0; r < 4; r++)
		for (int k = 0; k < 4; k++)
			if (dtmf_keys[r][k] == d) {
				*row = r;
				*col = k;
				return 0;
			}
	return -1;
}

int cb_tone_dtmf(cb_tone_bank_t *b, int chan, const char *digits, int on_ms, int off_ms,
		 double level_dbm0, double twist_db)
{
	if (!b || chan < 0 || chan >= b->nchan || !digits || on_ms < 1 || off_ms < 0 ||
	    level_dbm0 > 3.0 || level_dbm0 < -60.0)
		return CB_DSP_EINVAL;
	cb_tone_chan_t *c = &b->ch[chan];
	size_t n = strlen(digits);
	int r, k;
	for (size_t i = 0; i < n; i++)
		if (dtmf_index(digits[i], &r, &k) < 0)
			return CB_DSP_EINVAL;
	if (c->mode != 1) {
		memset(c, 0, sizeof(*c));
		c->mode = 1;
	}
	if ((size_t)(c->ndigits - c->idigit) + n > TONE_QUEUE)
		return CB_DSP_EFULL;
	if (c->idigit > 0) {       /* compact the queue */
		memmove(c->digits, c->digits + c->idigit, (size_t)(c->ndigits - c->idigit));
		c->ndigits -= c->idigit;
		c->idigit = 0;
	}
	memcpy(c->digits + c->ndigits, digits, n);
	c->ndigits += (int)n;
	c->on = on_ms * 8;
	c->off = off_ms * 8;
	c->level = level_dbm0;
	c->twist = twist_db;
	return CB_DSP_OK;
}

int cb_tone_play(cb_tone_bank_t *b, int chan, double f1, double f2, double level_dbm0,
		 const int *cadence_ms, int ncad, int repeat)
{
	if (!b || chan < 0 || chan >= b->nchan || f1 <= 0 || f1 >= 4000 || f2 < 0 || f2 >= 4000 ||
	    ncad < 0 || ncad > TONE_CAD || (ncad && !cadence_ms) || level_dbm0 > 3.0)
		return CB_DSP_EINVAL;
	cb_tone_chan_t *c = &b->ch[chan];
	memset(c, 0, sizeof(*c));
	c->mode = 2;
	c->inc1 = phase_inc(f1);
	c->inc2 = f2 > 0 ? phase_inc(f2) : 0;
	c->amp1 = level_amp(level_dbm0);
	c->amp2 = f2 > 0 ? c->amp1 : 0;
	c->ncad = ncad;
	for (int i = 0; i < 2 * ncad; i++) {
		if (cadence_ms[i] < 0)
			return CB_DSP_EINVAL;
		c->cad[i] = cadence_ms[i] * 8;
	}
	c->repeat = repeat;
	c->sounding = 1;
	c->left = ncad ? c->cad[0] : -1;
	return CB_DSP_OK;
}

int cb_tone_stop(cb_tone_bank_t *b, int chan)
{
	if (!b || chan < 0 || chan >= b->nchan)
		return CB_DSP_EINVAL;
	memset(&b->ch[chan], 0, sizeof(b->ch[chan]));
	return CB_DSP_OK;
}

int cb_tone_active(const cb_tone_bank_t *b, int chan)
{
	if (!b || chan < 0 || chan >= b->nchan)
		return CB_DSP_EINVAL;
	return b->ch[chan].mode != 0;
}

/* Advance a channel to its next segment; returns 0 when it has finished. */
static int next_segment(cb_tone_chan_t *c)
{
	if (c->mode == 1) {
		if (c->sounding) {
			c->sounding = 0;
			c->left = c->off;
			if (c->left > 0)
				return 1;
		}
		if (c->idigit >= c->ndigits) {
			c->mode = 0;
			return 0;
		}
		int r = 0, k = 0;
		dtmf_index(c->digits[c->idigit++], &r, &k);
		c->inc1 = phase_inc(dtmf_freq[r]);
		c->inc2 = phase_inc(dtmf_freq[4 + k]);
		c->amp1 = level_amp(c->level);
		c->amp2 = level_amp(c->level + c->twist);
		c->ph1 = c->ph2 = 0;
		c->sounding = 1;
		c->left = c->on;
		return 1;
	}
	/* cadenced tone */
	int idx = 2 * c->icad + (c->sounding ? 1 : 0);   /* the segment after the current one */
	if (c->sounding) {
		c->sounding = 0;
		c->left = c->cad[idx];
		return 1;
	}
	c->icad++;
	if (c->icad >= c->ncad) {
		if (!c->repeat) {
			c->mode = 0;
			return 0;
		}
		c->icad = 0;
	}
	c->sounding = 1;
	c->left = c->cad[2 * c->icad];
	return 1;
}

int cb_tone_generate(cb_tone_bank_t *b, int16_t *out, int nsamp)
{
	if (!b || !out || nsamp < 0)
		return CB_DSP_EINVAL;
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_tone_chan_t *c = &b->ch[ch];
		int16_t *y = out + (size_t)ch * (size_t)nsamp;
		int n = 0;
		while (n < nsamp) {
			if (c->mode == 0) {
				memset(y + n, 0, sizeof(int16_t) * (size_t)(nsamp - n));
				break;
			}
			if (c->left == 0) {
				if (!next_segment(c))
					continue;
				if (c->left == 0)
					continue;
			}
			int run = nsamp - n;
			if (c->left > 0 && c->left < run)
				run = c->left;
			if (c->sounding) {
				for (int i = 0; i < run; i++) {
					int v = (c->amp1 * b->sine[c->ph1 >> 22] + c->amp2 * b->sine[c->ph2 >> 22]) >> 15;
					y[n + i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
					c->ph1 += c->inc1;
					c->ph2 += c->inc2;
				}
			} else {
				memset(y + n, 0, sizeof(int16_t) * (size_t)run);
			}
			n += run;
			if (c->left > 0)
				c->left -= run;
		}
	}
	return CB_DSP_OK;
}
