/* HDLC for D-channels (ISO 13239 framing as Q.921 uses it). See callbox/line.h. */
#include <stdlib.h>
#include <string.h>
#include "private/line.h"

#define FLAG 0x7E
#define FCS_GOOD 0xF0B8

static uint16_t fcs16(uint16_t fcs, const uint8_t *p, int n)
{
	while (n--) {
		fcs ^= *p++;
		for (int i = 0; i < 8; i++)
			fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408) : (uint16_t)(fcs >> 1);
	}
	return fcs;
}

cb_hdlc_bank_t *cb_hdlc_bank_new(int nchan, int max_frame)
{
	if (nchan < 1 || nchan > 1024 || max_frame < 1 || max_frame > 4096)
		return NULL;
	cb_hdlc_bank_t *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->nchan = nchan;
	b->max_frame = max_frame;
	b->ch = calloc((size_t)nchan, sizeof(*b->ch));
	if (!b->ch)
		goto fail;
	for (int i = 0; i < nchan; i++) {
		cb_hdlc_chan_t *c = &b->ch[i];
		c->hunting = 1;
		c->frame = calloc(1, (size_t)max_frame + 4);
		c->q = calloc(HDLC_TXQ, (size_t)max_frame + 2);
		c->qlen = calloc(HDLC_TXQ, sizeof(int));
		if (!c->frame || !c->q || !c->qlen)
			goto fail;
	}
	return b;
fail:
	cb_hdlc_bank_free(b);
	return NULL;
}

void cb_hdlc_bank_free(cb_hdlc_bank_t *b)
{
	if (!b)
		return;
	if (b->ch) {
		for (int i = 0; i < b->nchan; i++) {
			free(b->ch[i].frame);
			free(b->ch[i].q);
			free(b->ch[i].qlen);
		}
		free(b->ch);
	}
	free(b);
}

/* A flag ended what was collected: the last 7 bits collected are the flag's 0111111. */
static int end_frame(cb_hdlc_chan_t *c, int chan, uint8_t *buf, int cap, int *used,
		     cb_hdlc_frame_t *fr, int max_fr, int *nfr)
{
	int bits = c->nbits - 7;
	c->nbits = 0;
	if (c->hunting) {
		c->hunting = 0;
		return 0;
	}
	if (bits <= 0)
		return 0;                               /* flags back to back */
	if (bits % 8 || bits < 8 * 3) {
		c->ctr.rx_too_short++;
		return 0;
	}
	int len = bits / 8;
	if (fcs16(0xFFFF, c->frame, len) != FCS_GOOD) {
		c->ctr.rx_fcs_errors++;
		return 0;
	}
	len -= 2;
	if (*nfr >= max_fr || *used + len > cap)
		return CB_LINE_EFULL;
	memcpy(buf + *used, c->frame, (size_t)len);
	fr[*nfr].chan = chan;
	fr[*nfr].offset = *used;
	fr[*nfr].len = len;
	(*nfr)++;
	*used += len;
	c->ctr.rx_frames++;
	return 0;
}

int cb_hdlc_rx(cb_hdlc_bank_t *b, const uint8_t *in, int n, uint8_t *buf, int cap,
	       cb_hdlc_frame_t *fr, int max_fr)
{
	if (!b || !in || n < 0 || !buf || !fr)
		return CB_LINE_EINVAL;
	int nfr = 0, used = 0;
	int limit_bits = (b->max_frame + 2) * 8 + 8;
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_hdlc_chan_t *c = &b->ch[ch];
		const uint8_t *x = in + (size_t)ch * (size_t)n;
		for (int i = 0; i < n; i++) {
			for (int k = 7; k >= 0; k--) {
				int bit = (x[i] >> k) & 1;
				if (bit) {
					if (++c->ones >= 7) {
						if (!c->hunting && c->nbits > 7 + 6)
							c->ctr.rx_aborts++;
						c->hunting = 1;
						c->nbits = 0;
						continue;
					}
				} else {
					if (c->ones == 5) {         /* stuffed zero */
						c->ones = 0;
						continue;
					}
					if (c->ones == 6) {         /* flag */
						c->ones = 0;
						int rc = end_frame(c, ch, buf, cap, &used, fr, max_fr, &nfr);
						if (rc < 0)
							return rc;
						continue;
					}
					c->ones = 0;
				}
				if (c->hunting)
					continue;               /* nothing to collect until a flag */
				if (c->nbits >= limit_bits) {
					c->ctr.rx_too_long++;
					c->hunting = 1;
					c->nbits = 0;
					continue;
				}
				int at = c->nbits++;
				if (at < (b->max_frame + 4) * 8) {
					uint8_t *o = &c->frame[at >> 3];
					if ((at & 7) == 0)
						*o = 0;
					*o |= (uint8_t)(bit << (at & 7));
				}
			}
		}
	}
	return nfr;
}

int cb_hdlc_send(cb_hdlc_bank_t *b, int chan, const uint8_t *data, int len)
{
	if (!b || chan < 0 || chan >= b->nchan || !data || len < 1 || len > b->max_frame)
		return CB_LINE_EINVAL;
	cb_hdlc_chan_t *c = &b->ch[chan];
	if (c->qcount == HDLC_TXQ)
		return CB_LINE_EFULL;
	int slot = (c->qhead + c->qcount) % HDLC_TXQ;
	uint8_t *q = c->q + (size_t)slot * (size_t)(b->max_frame + 2);
	memcpy(q, data, (size_t)len);
	uint16_t fcs = (uint16_t)~fcs16(0xFFFF, data, len);
	q[len] = (uint8_t)(fcs & 0xFF);
	q[len + 1] = (uint8_t)(fcs >> 8);
	c->qlen[slot] = len + 2;
	c->qcount++;
	return CB_LINE_OK;
}

static int next_tx_bit(cb_hdlc_bank_t *b, cb_hdlc_chan_t *c)
{
	if (c->tx_state == 1) {
		int len = c->qlen[c->qhead];
		if (c->tx_ones == 5) {
			c->tx_ones = 0;
			return 0;                           /* stuffed zero */
		}
		if (c->tx_bit < len * 8) {
			const uint8_t *q = c->q + (size_t)c->qhead * (size_t)(b->max_frame + 2);
			int bit = (q[c->tx_bit >> 3] >> (c->tx_bit & 7)) & 1;
			c->tx_bit++;
			c->tx_ones = bit ? c->tx_ones + 1 : 0;
			return bit;
		}
		/* frame done: closing flag */
		c->qhead = (c->qhead + 1) % HDLC_TXQ;
		c->qcount--;
		c->ctr.tx_frames++;
		c->tx_state = 0;
		c->tx_bit = 0;
	}
	int bit = (FLAG >> (7 - c->tx_bit)) & 1;
	if (++c->tx_bit == 8) {
		c->tx_bit = 0;
		if (c->qcount) {
			c->tx_state = 1;
			c->tx_ones = 0;
		}
	}
	return bit;
}

int cb_hdlc_tx(cb_hdlc_bank_t *b, uint8_t *out, int n)
{
	if (!b || !out || n < 0)
		return CB_LINE_EINVAL;
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_hdlc_chan_t *c = &b->ch[ch];
		uint8_t *y = out + (size_t)ch * (size_t)n;
		for (int i = 0; i < n; i++) {
			uint8_t o = 0;
			for (int k = 7; k >= 0; k--)
				o |= (uint8_t)(next_tx_bit(b, c) << k);
			y[i] = o;
		}
	}
	return n;
}

int cb_hdlc_counters(const cb_hdlc_bank_t *b, int chan, cb_hdlc_counters_t *c)
{
	if (!b || chan < 0 || chan >= b->nchan || !c)
		return CB_LINE_EINVAL;
	*c = b->ch[chan].ctr;
	return CB_LINE_OK;
}
