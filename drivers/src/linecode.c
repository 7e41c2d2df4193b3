/* AMI, HDB3 and B8ZS line codes. See callbox/linecode.h. */
#include <stdlib.h>
#include <string.h>
#include "callbox/linecode.h"

struct cb_linecode_s {
	int code;               /* CB_LC_* */
	int win;                /* substitution length: 4 (HDB3), 8 (B8ZS), 1 (AMI) */
	/* encoder */
	uint8_t ebuf[8];        /* bits held back, oldest first */
	int elen;
	int elast;              /* polarity of the last pulse sent (+1 / -1) */
	int epulses;            /* pulses since the last V (HDB3 parity) */
	/* decoder */
	int8_t dbuf[8];         /* symbols held back, oldest first */
	int dlen;
	int dlast;              /* polarity of the last pulse received */
	int zeros;              /* consecutive zero symbols received */
	cb_linecode_counters_t ctr;
};

cb_linecode_t *cb_linecode_new(int code)
{
	if (code != CB_LC_AMI && code != CB_LC_HDB3 && code != CB_LC_B8ZS)
		return NULL;
	cb_linecode_t *lc = calloc(1, sizeof(*lc));
	if (!lc)
		return NULL;
	lc->code = code;
	lc->win = code == CB_LC_HDB3 ? 4 : code == CB_LC_B8ZS ? 8 : 1;
	lc->elast = -1;                 /* so the first mark is + */
	lc->dlast = -1;
	return lc;
}

void cb_linecode_free(cb_linecode_t *lc)
{
	free(lc);
}

static int emit_bit(cb_linecode_t *lc, int bit, int8_t *out)
{
	if (!bit) {
		*out = 0;
		return 1;
	}
	lc->elast = -lc->elast;
	lc->epulses++;
	*out = (int8_t)lc->elast;
	return 1;
}

static int substitute(cb_linecode_t *lc, int8_t *out)
{
	int p = lc->elast;
	if (lc->code == CB_LC_HDB3) {
		if (lc->epulses & 1) {                 /* 000V */
			out[0] = out[1] = out[2] = 0;
			out[3] = (int8_t)p;
		} else {                               /* B00V */
			p = -p;
			out[0] = (int8_t)p;
			out[1] = out[2] = 0;
			out[3] = (int8_t)p;
		}
		lc->elast = p;
		lc->epulses = 0;
		return 4;
	}
	/* B8ZS: 0 0 0 V B 0 V B */
	out[0] = out[1] = out[2] = 0;
	out[3] = (int8_t)p;
	out[4] = (int8_t)-p;
	out[5] = 0;
	out[6] = (int8_t)-p;
	out[7] = (int8_t)p;
	lc->elast = p;
	return 8;
}

int cb_linecode_encode(cb_linecode_t *lc, const uint8_t *bits, int nbits, int8_t *sym)
{
	if (!lc || !bits || !sym || nbits < 0)
		return -1;
	int n = 0;
	for (int i = 0; i < nbits; i++) {
		int bit = (bits[i >> 3] >> (7 - (i & 7))) & 1;
		if (lc->code == CB_LC_AMI) {
			n += emit_bit(lc, bit, sym + n);
			continue;
		}
		lc->ebuf[lc->elen++] = (uint8_t)bit;
		if (lc->elen < lc->win)
			continue;
		int all_zero = 1;
		for (int k = 0; k < lc->win; k++)
			all_zero &= !lc->ebuf[k];
		if (all_zero) {
			n += substitute(lc, sym + n);
			lc->elen = 0;
		} else {
			n += emit_bit(lc, lc->ebuf[0], sym + n);
			memmove(lc->ebuf, lc->ebuf + 1, (size_t)--lc->elen);
		}
	}
	return n;
}

/* Decide about the oldest held symbol(s); returns bits written. */
static int decode_front(cb_linecode_t *lc, uint8_t *out)
{
	int8_t *s = lc->dbuf;
	if (lc->code == CB_LC_HDB3 && lc->dlen == 4 && s[3] && s[1] == 0 && s[2] == 0) {
		int v = s[3];
		int prev = s[0] ? s[0] : lc->dlast;       /* B00V: B is the previous pulse */
		if (v == prev && (s[0] == 0 || s[0] == -lc->dlast)) {
			memset(out, 0, 4);
			lc->dlast = v;
			lc->dlen = 0;
			lc->ctr.subs++;
			return 4;
		}
	}
	if (lc->code == CB_LC_B8ZS && lc->dlen == 8) {
		int p = lc->dlast;
		if (!s[0] && !s[1] && !s[2] && s[3] == p && s[4] == -p && !s[5] && s[6] == -p && s[7] == p) {
			memset(out, 0, 8);
			lc->dlast = p;
			lc->dlen = 0;
			lc->ctr.subs++;
			return 8;
		}
	}
	if (lc->dlen < lc->win)
		return 0;
	int x = s[0];
	if (x) {
		if (x == lc->dlast)
			lc->ctr.bpv++;                    /* same polarity, not a substitution */
		lc->dlast = x;
	}
	out[0] = x ? 1 : 0;
	memmove(s, s + 1, (size_t)--lc->dlen);
	return 1;
}

int cb_linecode_decode(cb_linecode_t *lc, const int8_t *sym, int n, uint8_t *bits)
{
	if (!lc || !sym || !bits || n < 0)
		return -1;
	int exz_limit = lc->code == CB_LC_HDB3 ? 4 : lc->code == CB_LC_B8ZS ? 8 : 16;
	int m = 0;
	for (int i = 0; i < n; i++) {
		int x = sym[i] > 0 ? 1 : sym[i] < 0 ? -1 : 0;
		if (x) {
			lc->zeros = 0;
		} else if (++lc->zeros == exz_limit) {
			lc->ctr.exz++;
		}
		lc->dbuf[lc->dlen++] = (int8_t)x;
		int k;
		while ((k = decode_front(lc, bits + m)) > 0)
			m += k;
	}
	return m;
}

void cb_linecode_counters(const cb_linecode_t *lc, cb_linecode_counters_t *c)
{
	*c = lc->ctr;
}
