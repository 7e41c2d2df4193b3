/* Tone generator bank. The method is in callbox/tone.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "private/bank.h"
#include "private/tone.h"

static const double row_freq[4] = {697, 770, 852, 941};        /* Q.23 low group */
static const double col_freq[4] = {1209, 1336, 1477, 1633};    /* Q.23 high group */
static const char dtmf_keys[] = "123A456B789C*0#D";             /* row-major keypad */

#define PI 3.14159265358979323846
#define FULL_SCALE 32767        /* the largest sum of peaks a request may ask for */
#define MIN_LEVEL_DBM0 -60.0    /* quieter requests are refused: they would round to nothing */
#define MAX_SEGMENT_MS 60000    /* one on or off period of a cadence */
#define MAX_DIGIT_MS 10000      /* one DTMF on or off period */
#define SAMPLES_PER_MS (CB_DSP_RATE / 1000)

int cb_tone_bank_new(cb_tone_bank_t **bank, int nchan)
{
	cb_tone_bank_t *b;
	void *ch;
	int rc = cb_bank_alloc((void **)&b, sizeof(*b), &ch, sizeof(*b->ch), nchan);
	if (rc)
		return rc;
	b->ch = ch;
	b->nchan = nchan;
	int points = 1 << TONE_TABLE_BITS;
	for (int i = 0; i <= points; i++)
		b->sine[i] = (int16_t)lrint(32767.0 * sin(2.0 * PI * i / points));
	*bank = b;
	return 0;
}

void cb_tone_bank_free(cb_tone_bank_t *bank)
{
	if (bank) {
		free(bank->ch);
		free(bank);
	}
}

static uint32_t phase_step(double f)
{
	return (uint32_t)llround(f / CB_DSP_RATE * 4294967296.0);
}

/* Peak amplitude of a tone at dbm0, or -1 if it is outside what can be generated. */
static int amplitude(double dbm0)
{
	if (!(dbm0 >= MIN_LEVEL_DBM0))     /* also refuses NaN */
		return -1;
	double a = CB_DSP_PEAK_0DBM0 * pow(10.0, dbm0 / 20.0);
	return a > FULL_SCALE ? -1 : (int)lrint(a);
}

static int check_chan(const cb_tone_bank_t *b, int chan)
{
	if (!b)
		return CB_EINVAL;
	return chan < 0 || chan >= b->nchan ? CB_ECHAN : 0;
}

static void silence(cb_tone_chan_t *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = TONE_IDLE;
}

int cb_tone_send_dtmf(cb_tone_bank_t *bank, int chan, const char *digits, int on_ms, int off_ms,
		      double level_dbm0, double twist_db)
{
	int rc = check_chan(bank, chan);
	if (rc < 0)
		return rc;
	if (!digits || on_ms < 1 || on_ms > MAX_DIGIT_MS || off_ms < 0 || off_ms > MAX_DIGIT_MS ||
	    !isfinite(twist_db))
		return CB_EINVAL;
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++)
		if (!strchr(dtmf_keys, digits[i]))
			return CB_EDIGIT;
	int high = amplitude(level_dbm0), low = amplitude(level_dbm0 - twist_db);
	if (high < 0 || low < 0 || high + low > FULL_SCALE)
		return CB_ERANGE;
	cb_tone_chan_t *c = &bank->ch[chan];
	int queued = c->mode == TONE_DTMF ? c->count : 0;
	if ((size_t)queued + n > TONE_QUEUE)
		return CB_EFULL;
	if (n == 0)
		return queued;
	if (c->mode != TONE_DTMF) {
		silence(c);
		c->mode = TONE_DTMF;        /* left = 0: the first digit starts with the next sample */
	}
	for (size_t i = 0; i < n; i++) {
		int key = (int)(strchr(dtmf_keys, digits[i]) - dtmf_keys);
		tone_digit_t *d = &c->queue[(c->head + c->count) % TONE_QUEUE];
		d->row = key / 4;
		d->col = key % 4;
		d->on = on_ms * SAMPLES_PER_MS;
		d->off = off_ms * SAMPLES_PER_MS;
		d->amp_low = low;
		d->amp_high = high;
		c->count++;
	}
	return c->count;
}

int cb_tone_play(cb_tone_bank_t *bank, int chan, double f1, double f2, double level_dbm0,
		 const int *cadence_ms, int ncad, int repeat)
{
	int rc = check_chan(bank, chan);
	if (rc < 0)
		return rc;
	if (ncad < 0 || ncad > TONE_CADENCE || (ncad > 0 && !cadence_ms))
		return CB_EINVAL;
	int sound = ncad == 0;
	for (int i = 0; i < 2 * ncad; i++) {
		if (cadence_ms[i] < 0 || cadence_ms[i] > MAX_SEGMENT_MS)
			return CB_EINVAL;
		if (i % 2 == 0 && cadence_ms[i] > 0)
			sound = 1;
	}
	if (!sound)
		return CB_EINVAL;
	if (!(f1 >= 1.0 && f1 < CB_DSP_RATE / 2) || !(f2 == 0.0 || (f2 >= 1.0 && f2 < CB_DSP_RATE / 2)))
		return CB_ERANGE;
	int amp = amplitude(level_dbm0);
	if (amp < 0 || (f2 > 0.0 ? 2 * amp : amp) > FULL_SCALE)
		return CB_ERANGE;
	cb_tone_chan_t *c = &bank->ch[chan];
	silence(c);
	c->mode = TONE_PLAY;
	c->inc1 = phase_step(f1);
	c->inc2 = f2 > 0.0 ? phase_step(f2) : 0;
	c->amp1 = amp;
	c->amp2 = f2 > 0.0 ? amp : 0;
	c->ncad = ncad;
	for (int i = 0; i < 2 * ncad; i++)
		c->cadence[i] = cadence_ms[i] * SAMPLES_PER_MS;
	c->repeat = repeat != 0;
	c->sounding = 1;
	c->left = ncad ? c->cadence[0] : -1;
	return 0;
}

int cb_tone_stop(cb_tone_bank_t *bank, int chan)
{
	int rc = check_chan(bank, chan);
	if (rc < 0)
		return rc;
	silence(&bank->ch[chan]);
	return 0;
}

int cb_tone_active(const cb_tone_bank_t *bank, int chan)
{
	int rc = check_chan(bank, chan);
	if (rc < 0)
		return rc;
	return bank->ch[chan].mode != TONE_IDLE;
}

/* The current period is over: move to the next one (or to idle). */
static void next_period(cb_tone_chan_t *c)
{
	if (c->mode == TONE_DTMF) {
		if (c->sounding) {
			c->sounding = 0;
			c->left = c->digit_off;
			return;
		}
		if (c->count == 0) {
			silence(c);
			return;
		}
		const tone_digit_t *d = &c->queue[c->head];
		c->head = (c->head + 1) % TONE_QUEUE;
		c->count--;
		c->inc1 = phase_step(row_freq[d->row]);
		c->inc2 = phase_step(col_freq[d->col]);
		c->amp1 = d->amp_low;
		c->amp2 = d->amp_high;
		c->ph1 = c->ph2 = 0;
		c->digit_off = d->off;
		c->sounding = 1;
		c->left = d->on;
		return;
	}
	/* TONE_PLAY with a cadence */
	if (c->sounding) {
		c->sounding = 0;
		c->left = c->cadence[2 * c->icad + 1];
		return;
	}
	int was_silent = c->cadence[2 * c->icad + 1] > 0;
	if (++c->icad >= c->ncad) {
		if (!c->repeat) {
			silence(c);
			return;
		}
		c->icad = 0;
	}
	if (was_silent)                 /* a new burst starts at phase zero; a joined one goes on */
		c->ph1 = c->ph2 = 0;
	c->sounding = 1;
	c->left = c->cadence[2 * c->icad];
}

/* Move past finished (and empty) periods, so that an idle channel reads idle at once.
 * Ends: DTMF on times are >= 1 sample, and a validated cadence has a period that sounds. */
static void settle(cb_tone_chan_t *c)
{
	while (c->mode != TONE_IDLE && c->left == 0)
		next_period(c);
}

/* Sine of a phase accumulator, Q15, interpolated between table points. */
static int sine_at(const int16_t *table, uint32_t ph)
{
	uint32_t i = ph >> (32 - TONE_TABLE_BITS);
	int32_t frac = (int32_t)((ph >> (16 - TONE_TABLE_BITS)) & 0xFFFF);
	int32_t a = table[i], d = table[i + 1] - a;
	return (int)(a + ((d * frac) >> 16));
}

int cb_tone_generate(cb_tone_bank_t *bank, int16_t *out, int nsamples)
{
	if (!bank || nsamples < 0 || (nsamples > 0 && !out))
		return CB_EINVAL;
	for (int ch = 0; ch < bank->nchan; ch++) {
		cb_tone_chan_t *c = &bank->ch[ch];
		int16_t *y = out + (size_t)ch * (size_t)nsamples;
		int n = 0;
		while (n < nsamples) {
			settle(c);
			if (c->mode == TONE_IDLE) {
				memset(y + n, 0, sizeof(*y) * (size_t)(nsamples - n));
				break;
			}
			int run = nsamples - n;
			if (c->left > 0 && c->left < run)
				run = c->left;
			if (c->sounding) {
				for (int k = 0; k < run; k++) {
					/* the validated amplitudes add up to at most full scale */
					int32_t v = c->amp1 * sine_at(bank->sine, c->ph1) +
						    c->amp2 * sine_at(bank->sine, c->ph2);
					y[n + k] = (int16_t)((v + (1 << 14)) >> 15);
					c->ph1 += c->inc1;
					c->ph2 += c->inc2;
				}
			} else {
				memset(y + n, 0, sizeof(*y) * (size_t)run);
			}
			n += run;
			if (c->left > 0)
				c->left -= run;
		}
		settle(c);
	}
	return nsamples;
}
