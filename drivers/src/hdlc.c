/* HDLC for D-channels (Q.921 2.2-2.10 framing). See callbox/hdlc.h.
 *
 * Receive: each bit of a channel goes through a small decoder that counts ones in a
 * row. A 0 after five ones is a stuffed bit and is dropped; a 0 after six ones ends
 * a flag; a seventh one is an abort. Every other bit is collected (LSB first per
 * octet) until the next flag; when it comes, the flag's own first seven bits (0 and
 * six ones) are already collected, so the frame is what was collected minus seven.
 *
 * Transmit: each channel sends flags until a frame is queued, then the frame's bits
 * (data and FCS, LSB first per octet) with a 0 stuffed after every five ones, then a
 * flag that also opens the next queued frame.
 */
#include <stdlib.h>
#include <string.h>
#include "private/hdlc.h"

#define FLAG 0x7E               /* Q.921 2.2 */
#define FCS_INIT 0xFFFF         /* Q.921 2.7 */
#define FCS_GOOD 0xF0B8         /* register after a good frame and its FCS */
#define FLAG_BITS_COLLECTED 7   /* a flag's 0 and six ones, collected before it is recognised */
#define MIN_FRAME 3             /* octets, FCS included: one octet of data */

/* FCS-16 register update, reflected x^16 + x^12 + x^5 + 1 (0x8408), one entry per octet. */
static const uint16_t fcs_table[256] = {
	0x0000, 0x1189, 0x2312, 0x329B, 0x4624, 0x57AD, 0x6536, 0x74BF,
	0x8C48, 0x9DC1, 0xAF5A, 0xBED3, 0xCA6C, 0xDBE5, 0xE97E, 0xF8F7,
	0x1081, 0x0108, 0x3393, 0x221A, 0x56A5, 0x472C, 0x75B7, 0x643E,
	0x9CC9, 0x8D40, 0xBFDB, 0xAE52, 0xDAED, 0xCB64, 0xF9FF, 0xE876,
	0x2102, 0x308B, 0x0210, 0x1399, 0x6726, 0x76AF, 0x4434, 0x55BD,
	0xAD4A, 0xBCC3, 0x8E58, 0x9FD1, 0xEB6E, 0xFAE7, 0xC87C, 0xD9F5,
	0x3183, 0x200A, 0x1291, 0x0318, 0x77A7, 0x662E, 0x54B5, 0x453C,
	0xBDCB, 0xAC42, 0x9ED9, 0x8F50, 0xFBEF, 0xEA66, 0xD8FD, 0xC974,
	0x4204, 0x538D, 0x6116, 0x709F, 0x0420, 0x15A9, 0x2732, 0x36BB,
	0xCE4C, 0xDFC5, 0xED5E, 0xFCD7, 0x8868, 0x99E1, 0xAB7A, 0xBAF3,
	0x5285, 0x430C, 0x7197, 0x601E, 0x14A1, 0x0528, 0x37B3, 0x263A,
	0xDECD, 0xCF44, 0xFDDF, 0xEC56, 0x98E9, 0x8960, 0xBBFB, 0xAA72,
	0x6306, 0x728F, 0x4014, 0x519D, 0x2522, 0x34AB, 0x0630, 0x17B9,
	0xEF4E, 0xFEC7, 0xCC5C, 0xDDD5, 0xA96A, 0xB8E3, 0x8A78, 0x9BF1,
	0x7387, 0x620E, 0x5095, 0x411C, 0x35A3, 0x242A, 0x16B1, 0x0738,
	0xFFCF, 0xEE46, 0xDCDD, 0xCD54, 0xB9EB, 0xA862, 0x9AF9, 0x8B70,
	0x8408, 0x9581, 0xA71A, 0xB693, 0xC22C, 0xD3A5, 0xE13E, 0xF0B7,
	0x0840, 0x19C9, 0x2B52, 0x3ADB, 0x4E64, 0x5FED, 0x6D76, 0x7CFF,
	0x9489, 0x8500, 0xB79B, 0xA612, 0xD2AD, 0xC324, 0xF1BF, 0xE036,
	0x18C1, 0x0948, 0x3BD3, 0x2A5A, 0x5EE5, 0x4F6C, 0x7DF7, 0x6C7E,
	0xA50A, 0xB483, 0x8618, 0x9791, 0xE32E, 0xF2A7, 0xC03C, 0xD1B5,
	0x2942, 0x38CB, 0x0A50, 0x1BD9, 0x6F66, 0x7EEF, 0x4C74, 0x5DFD,
	0xB58B, 0xA402, 0x9699, 0x8710, 0xF3AF, 0xE226, 0xD0BD, 0xC134,
	0x39C3, 0x284A, 0x1AD1, 0x0B58, 0x7FE7, 0x6E6E, 0x5CF5, 0x4D7C,
	0xC60C, 0xD785, 0xE51E, 0xF497, 0x8028, 0x91A1, 0xA33A, 0xB2B3,
	0x4A44, 0x5BCD, 0x6956, 0x78DF, 0x0C60, 0x1DE9, 0x2F72, 0x3EFB,
	0xD68D, 0xC704, 0xF59F, 0xE416, 0x90A9, 0x8120, 0xB3BB, 0xA232,
	0x5AC5, 0x4B4C, 0x79D7, 0x685E, 0x1CE1, 0x0D68, 0x3FF3, 0x2E7A,
	0xE70E, 0xF687, 0xC41C, 0xD595, 0xA12A, 0xB0A3, 0x8238, 0x93B1,
	0x6B46, 0x7ACF, 0x4854, 0x59DD, 0x2D62, 0x3CEB, 0x0E70, 0x1FF9,
	0xF78F, 0xE606, 0xD49D, 0xC514, 0xB1AB, 0xA022, 0x92B9, 0x8330,
	0x7BC7, 0x6A4E, 0x58D5, 0x495C, 0x3DE3, 0x2C6A, 0x1EF1, 0x0F78,
};

static uint16_t fcs16(uint16_t fcs, const uint8_t *p, int n)
{
	while (n-- > 0)
		fcs = (uint16_t)((fcs >> 8) ^ fcs_table[(fcs ^ *p++) & 0xFF]);
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
		c->q = calloc(CB_HDLC_TX_QUEUE, (size_t)max_frame + 2);
		c->qlen = calloc(CB_HDLC_TX_QUEUE, sizeof(int));
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

/* Where cb_hdlc_rx puts the good frames of one call. */
typedef struct {
	uint8_t *buf;           /* caller's octet buffer */
	int cap;                /* its size */
	int used;               /* octets written */
	cb_hdlc_frame_t *fr;    /* caller's frame records */
	int max_fr;             /* their number */
	int nfr;                /* records written */
	int full;               /* a good frame did not fit */
} rx_out_t;

/* A flag closed whatever was collected on channel `chan`. */
static void end_frame(cb_hdlc_chan_t *c, int chan, rx_out_t *o)
{
	int bits = c->nbits - FLAG_BITS_COLLECTED;
	c->nbits = 0;
	if (c->hunting) {                       /* the opening flag we were waiting for */
		c->hunting = 0;
		return;
	}
	if (bits <= 0)
		return;                         /* flags back to back */
	if (bits % 8) {
		c->ctr.rx_fcs_errors++;         /* not a whole number of octets (Q.921 2.9) */
		return;
	}
	int len = bits / 8;
	if (len < MIN_FRAME) {
		c->ctr.rx_too_short++;
		return;
	}
	if (fcs16(FCS_INIT, c->frame, len) != FCS_GOOD) {
		c->ctr.rx_fcs_errors++;
		return;
	}
	len -= 2;                               /* <= max_frame: rx_bit stops collecting beyond it */
	if (o->nfr >= o->max_fr || o->used + len > o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->used, c->frame, (size_t)len);
	o->fr[o->nfr].chan = chan;
	o->fr[o->nfr].offset = o->used;
	o->fr[o->nfr].len = len;
	o->nfr++;
	o->used += len;
	c->ctr.rx_frames++;
}

/* One received bit of channel `chan`. */
static void rx_bit(const cb_hdlc_bank_t *b, cb_hdlc_chan_t *c, int chan, int bit, rx_out_t *o)
{
	if (bit) {
		if (++c->ones >= 7) {
			/* Q.921 2.10: abort; counted when a frame with data was open */
			if (c->ones == 7 && !c->hunting && c->nbits - 6 >= 8)
				c->ctr.rx_aborts++;
			c->hunting = 1;
			c->nbits = 0;
			return;
		}
	} else {
		int ones = c->ones;
		c->ones = 0;
		if (ones == 5)
			return;                 /* stuffed zero (Q.921 2.6) */
		if (ones == 6) {
			end_frame(c, chan, o);
			return;
		}
	}
	if (c->hunting)
		return;
	/* the longest good frame: max_frame + 2 octets, then the flag's first 7 bits */
	if (c->nbits >= (b->max_frame + 2) * 8 + FLAG_BITS_COLLECTED) {
		c->ctr.rx_too_long++;
		c->hunting = 1;
		c->nbits = 0;
		return;
	}
	int at = c->nbits++;
	uint8_t *p = &c->frame[at >> 3];
	if ((at & 7) == 0)
		*p = 0;
	*p |= (uint8_t)(bit << (at & 7));
}

int cb_hdlc_rx(cb_hdlc_bank_t *b, const uint8_t *in, int n, uint8_t *buf, int cap,
	       cb_hdlc_frame_t *fr, int max_fr)
{
	if (!b || !in || n < 0 || !buf || cap < 0 || !fr || max_fr < 0)
		return CB_LINE_EINVAL;
	rx_out_t o = { .buf = buf, .cap = cap, .fr = fr, .max_fr = max_fr };
	for (int ch = 0; ch < b->nchan; ch++) {
		cb_hdlc_chan_t *c = &b->ch[ch];
		const uint8_t *x = in + (size_t)ch * (size_t)n;
		for (int i = 0; i < n; i++)
			for (int k = 7; k >= 0; k--)    /* wire order: MSB first */
				rx_bit(b, c, ch, (x[i] >> k) & 1, &o);
	}
	return o.full ? CB_LINE_EFULL : o.nfr;
}

int cb_hdlc_send(cb_hdlc_bank_t *b, int chan, const uint8_t *data, int len)
{
	if (!b || chan < 0 || chan >= b->nchan || !data || len < 1 || len > b->max_frame)
		return CB_LINE_EINVAL;
	cb_hdlc_chan_t *c = &b->ch[chan];
	if (c->qcount == CB_HDLC_TX_QUEUE)
		return CB_LINE_EFULL;
	int slot = (c->qhead + c->qcount) % CB_HDLC_TX_QUEUE;
	uint8_t *q = c->q + (size_t)slot * (size_t)(b->max_frame + 2);
	memcpy(q, data, (size_t)len);
	uint16_t fcs = (uint16_t)~fcs16(FCS_INIT, data, len);
	q[len] = (uint8_t)(fcs & 0xFF);                 /* low octet first (Q.921 2.7) */
	q[len + 1] = (uint8_t)(fcs >> 8);
	c->qlen[slot] = len + 2;
	c->qcount++;
	return CB_LINE_OK;
}

int cb_hdlc_pending(const cb_hdlc_bank_t *b, int chan)
{
	if (!b || chan < 0 || chan >= b->nchan)
		return CB_LINE_EINVAL;
	return b->ch[chan].qcount;
}

/* The next transmitted bit of one channel. */
static int tx_bit(const cb_hdlc_bank_t *b, cb_hdlc_chan_t *c)
{
	if (c->tx_data) {
		if (c->tx_ones == 5) {
			c->tx_ones = 0;
			return 0;                       /* stuffed zero (Q.921 2.6) */
		}
		int len = c->qlen[c->qhead];
		if (c->tx_bit < len * 8) {
			const uint8_t *q = c->q + (size_t)c->qhead * (size_t)(b->max_frame + 2);
			int bit = (q[c->tx_bit >> 3] >> (c->tx_bit & 7)) & 1;
			c->tx_bit++;
			c->tx_ones = bit ? c->tx_ones + 1 : 0;
			return bit;
		}
		/* frame and FCS sent: the closing flag follows */
		c->qhead = (c->qhead + 1) % CB_HDLC_TX_QUEUE;
		c->qcount--;
		c->ctr.tx_frames++;
		c->tx_data = 0;
		c->tx_bit = 0;
	}
	int bit = (FLAG >> (7 - c->tx_bit)) & 1;
	if (++c->tx_bit == 8) {
		c->tx_bit = 0;
		if (c->qcount) {                        /* this flag opens the next frame */
			c->tx_data = 1;
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
			for (int k = 7; k >= 0; k--)    /* wire order: MSB first */
				o |= (uint8_t)(tx_bit(b, c) << k);
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
