/* Call-progress tone presence bank: see callbox/cpt.h. */
#include <math.h>
#include <stdlib.h>

#include "private/bank.h"
#include "callbox/cpt.h"

#define PI 3.14159265358979323846
#define REF_POWER (16141.0 * 16141.0)    /* 0 dBm0 on the A-law scale */
#define MIN_DBM0 (-40.0)
#define SHARE 0.60

typedef struct {
	int n;                  /* watched frequencies: 0, 1 or 2 */
	double coef[2];
} chan_t;

struct cb_cpt_bank_s {
	int nchan;
	chan_t *ch;
};

int cb_cpt_bank_new(cb_cpt_bank_t **bank, int nchan)
{
	cb_cpt_bank_t *b;
	void *ch;
	int rc = cb_bank_alloc((void **)&b, sizeof(*b), &ch, sizeof(*b->ch), nchan);
	if (rc)
		return rc;
	b->ch = ch;
	b->nchan = nchan;
	*bank = b;
	return 0;
}

void cb_cpt_bank_free(cb_cpt_bank_t *bank)
{
	if (bank) {
		free(bank->ch);
		free(bank);
	}
}

int cb_cpt_watch(cb_cpt_bank_t *bank, int chan, double f1, double f2)
{
	if (!bank || f1 < 0 || f1 >= 4000 || f2 < 0 || f2 >= 4000)
		return CB_EINVAL;
	if (chan < 0 || chan >= bank->nchan)
		return CB_ECHAN;
	chan_t *c = &bank->ch[chan];
	c->n = f1 > 0 ? (f2 > 0 ? 2 : 1) : 0;
	c->coef[0] = 2.0 * cos(2.0 * PI * f1 / 8000.0);
	c->coef[1] = 2.0 * cos(2.0 * PI * f2 / 8000.0);
	return 0;
}

int cb_cpt_process(cb_cpt_bank_t *bank, const int16_t *in, int nsamples, uint8_t *present)
{
	if (!bank || !in || !present || nsamples < 1)
		return CB_EINVAL;
	double min_power = REF_POWER * pow(10.0, MIN_DBM0 / 10.0);
	for (int ch = 0; ch < bank->nchan; ch++) {
		const chan_t *c = &bank->ch[ch];
		const int16_t *x = in + (size_t)ch * nsamples;
		present[ch] = 0;
		if (!c->n)
			continue;
		double s1[2] = {0, 0}, s2[2] = {0, 0}, energy = 0;
		for (int i = 0; i < nsamples; i++) {
			double v = x[i];
			energy += v * v;
			for (int k = 0; k < c->n; k++) {
				double s0 = v + c->coef[k] * s1[k] - s2[k];
				s2[k] = s1[k];
				s1[k] = s0;
			}
		}
		double total = 0;
		int ok = 1;
		for (int k = 0; k < c->n; k++) {
			double p = s1[k] * s1[k] + s2[k] * s2[k] - c->coef[k] * s1[k] * s2[k];
			double power = 2.0 * p / ((double)nsamples * nsamples);
			if (power < min_power)
				ok = 0;
			total += power;
		}
		present[ch] = (uint8_t)(ok && total >= SHARE * energy / nsamples);
	}
	return bank->nchan;
}
