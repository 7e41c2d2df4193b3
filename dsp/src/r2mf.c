/* MFC/R2 multi-frequency receiver bank: see callbox/r2mf.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "private/bank.h"
#include "callbox/r2mf.h"

#define BLOCK 133
#define NTONES 6
#define PI 3.14159265358979323846
/* 0 dBm0 on the A-law scale: RMS 16141, power 16141^2 */
#define REF_POWER (16141.0 * 16141.0)
#define MIN_DBM0 (-35.0)
#define TWIST_DB 7.0
#define THIRD_DB 11.0
#define SHARE 0.70

static const double FWD[NTONES] = {1380, 1500, 1620, 1740, 1860, 1980};
static const double BWD[NTONES] = {1140, 1020, 900, 780, 660, 540};
static const int PAIRS[15][2] = {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}, {0, 4}, {1, 4}, {2, 4}, {3, 4},
				 {0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}};

typedef struct {
	int backward;
	int n;                  /* samples in the current block */
	double s1[NTONES], s2[NTONES];
	double energy;
	int last;               /* signal of the last block (0 none) */
	int state;              /* signal reported as present (0 none) */
	int run;                /* blocks in a row agreeing with `last` */
} chan_t;

struct cb_r2mf_bank_s {
	int nchan;
	double coef[2][NTONES];
	chan_t *ch;
};

int cb_r2mf_bank_new(cb_r2mf_bank_t **bank, int nchan)
{
	cb_r2mf_bank_t *b;
	void *ch;
	int rc = cb_bank_alloc((void **)&b, sizeof(*b), &ch, sizeof(*b->ch), nchan);
	if (rc)
		return rc;
	b->ch = ch;
	b->nchan = nchan;
	for (int i = 0; i < NTONES; i++) {
		b->coef[0][i] = 2.0 * cos(2.0 * PI * FWD[i] / 8000.0);
		b->coef[1][i] = 2.0 * cos(2.0 * PI * BWD[i] / 8000.0);
	}
	*bank = b;
	return 0;
}

void cb_r2mf_bank_free(cb_r2mf_bank_t *bank)
{
	if (bank) {
		free(bank->ch);
		free(bank);
	}
}

int cb_r2mf_set_backward(cb_r2mf_bank_t *bank, int chan, int backward)
{
	if (!bank)
		return CB_EINVAL;
	if (chan < 0 || chan >= bank->nchan)
		return CB_ECHAN;
	memset(&bank->ch[chan], 0, sizeof(chan_t));
	bank->ch[chan].backward = !!backward;
	return 0;
}

int cb_r2mf_reset(cb_r2mf_bank_t *bank, int chan)
{
	if (!bank)
		return CB_EINVAL;
	if (chan < 0 || chan >= bank->nchan)
		return CB_ECHAN;
	return cb_r2mf_set_backward(bank, chan, bank->ch[chan].backward);
}

int cb_r2mf_max_events(const cb_r2mf_bank_t *bank, int nsamples)
{
	if (!bank || nsamples < 0)
		return CB_EINVAL;
	return 2 * bank->nchan * (nsamples / BLOCK + 1);
}

int cb_r2mf_pair(int signal, int backward, double *f1, double *f2)
{
	if (signal < 1 || signal > 15 || !f1 || !f2)
		return CB_EINVAL;
	const double *set = backward ? BWD : FWD;
	*f1 = set[PAIRS[signal - 1][0]];
	*f2 = set[PAIRS[signal - 1][1]];
	return 0;
}

/* the signal a finished block holds, or 0 */
static int judge(const cb_r2mf_bank_t *b, chan_t *c)
{
	const double *coef = b->coef[c->backward];
	double p[NTONES];
	for (int i = 0; i < NTONES; i++)
		p[i] = c->s1[i] * c->s1[i] + c->s2[i] * c->s2[i] - coef[i] * c->s1[i] * c->s2[i];
	int a = -1, bb = -1;
	for (int i = 0; i < NTONES; i++) {
		if (a < 0 || p[i] > p[a]) {
			bb = a;
			a = i;
		} else if (bb < 0 || p[i] > p[bb]) {
			bb = i;
		}
	}
	double third = 0;
	for (int i = 0; i < NTONES; i++)
		if (i != a && i != bb && p[i] > third)
			third = p[i];
	/* tone power = 2 |X|^2 / N^2; block energy per sample = energy / N */
	double pa = 2.0 * p[a] / ((double)BLOCK * BLOCK), pb = 2.0 * p[bb] / ((double)BLOCK * BLOCK);
	double min_power = REF_POWER * pow(10.0, MIN_DBM0 / 10.0);
	if (pa < min_power || pb < min_power)
		return 0;
	if (pa > pb * pow(10.0, TWIST_DB / 10.0))
		return 0;
	if (third * pow(10.0, THIRD_DB / 10.0) > p[bb])
		return 0;
	if (pa + pb < SHARE * c->energy / BLOCK)
		return 0;
	int lo = a < bb ? a : bb, hi = a < bb ? bb : a;
	for (int s = 0; s < 15; s++)
		if (PAIRS[s][0] == lo && PAIRS[s][1] == hi)
			return s + 1;
	return 0;
}

int cb_r2mf_process(cb_r2mf_bank_t *bank, const int16_t *in, int nsamples, cb_r2mf_event_t *events,
		    int max_events)
{
	if (!bank || !in || nsamples < 0 || (!events && max_events))
		return CB_EINVAL;
	if (max_events < cb_r2mf_max_events(bank, nsamples))
		return CB_ESPACE;
	int nev = 0;
	for (int ch = 0; ch < bank->nchan; ch++) {
		chan_t *c = &bank->ch[ch];
		const double *coef = bank->coef[c->backward];
		const int16_t *x = in + (size_t)ch * nsamples;
		for (int i = 0; i < nsamples; i++) {
			double v = x[i];
			for (int t = 0; t < NTONES; t++) {
				double s0 = v + coef[t] * c->s1[t] - c->s2[t];
				c->s2[t] = c->s1[t];
				c->s1[t] = s0;
			}
			c->energy += v * v;
			if (++c->n < BLOCK)
				continue;
			int sig = judge(bank, c);
			memset(c->s1, 0, sizeof(c->s1));
			memset(c->s2, 0, sizeof(c->s2));
			c->energy = 0;
			c->n = 0;
			c->run = sig == c->last ? c->run + 1 : 1;
			c->last = sig;
			if (c->run == 2 && sig != c->state) {
				if (c->state && sig) {      /* straight from one signal to another: stop first */
					events[nev++] = (cb_r2mf_event_t){ch, 0, i};
				}
				c->state = sig;
				events[nev++] = (cb_r2mf_event_t){ch, sig, i};
			}
		}
	}
	return nev;
}
