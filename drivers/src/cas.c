/* E1 TS16 CAS multiframe: see callbox/cas.h. */
#include <stdlib.h>
#include <string.h>

#include "callbox/cas.h"
#include "callbox/line.h"

#define CHANNELS 30
#define TS16 16

struct cb_cas_s {
	uint8_t tx[CHANNELS + 1];
	int tx_alarm;
	int tx_pos;             /* frame of the multiframe being sent */
	int aligned;
	int rx_pos;
	int bad_mfas;
	int zero_run;           /* consecutive frames with TS16 all zero */
	uint8_t prev_ts16;
	uint8_t cur[CHANNELS + 1], last[CHANNELS + 1];
	int have_last;
	int rx[CHANNELS + 1];
	cb_cas_status_t st;
};

cb_cas_t *cb_cas_new(void)
{
	cb_cas_t *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (int i = 0; i <= CHANNELS; i++) {
		c->tx[i] = 0x9;             /* ITU idle 1001 */
		c->rx[i] = -1;
	}
	c->prev_ts16 = 0xFF;
	return c;
}

void cb_cas_free(cb_cas_t *c)
{
	free(c);
}

int cb_cas_set_tx(cb_cas_t *c, int chan, int abcd)
{
	if (!c || chan < 1 || chan > CHANNELS || abcd < 1 || abcd > 15)
		return CB_LINE_EINVAL;
	c->tx[chan] = (uint8_t)abcd;
	return 0;
}

void cb_cas_set_tx_alarm(cb_cas_t *c, int on)
{
	if (c)
		c->tx_alarm = !!on;
}

int cb_cas_insert(cb_cas_t *c, uint8_t *frames, int nframes)
{
	if (!c || !frames || nframes < 0)
		return CB_LINE_EINVAL;
	for (int f = 0; f < nframes; f++) {
		uint8_t v;
		if (c->tx_pos == 0)
			v = (uint8_t)(0x0B | (c->tx_alarm ? 0x04 : 0));     /* 0000 x y x x */
		else
			v = (uint8_t)((c->tx[c->tx_pos] << 4) | c->tx[c->tx_pos + 15]);
		frames[f * 32 + TS16] = v;
		c->tx_pos = (c->tx_pos + 1) % 16;
	}
	return nframes;
}

static void lose(cb_cas_t *c)
{
	c->aligned = 0;
	c->st.lomf = 1;
	c->have_last = 0;
}

int cb_cas_extract(cb_cas_t *c, const uint8_t *frames, int nframes)
{
	if (!c || !frames || nframes < 0)
		return CB_LINE_EINVAL;
	for (int f = 0; f < nframes; f++) {
		uint8_t v = frames[f * 32 + TS16];
		c->zero_run = v ? 0 : c->zero_run + 1;
		if (c->zero_run >= 16 && c->aligned)
			lose(c);
		if (!c->aligned) {
			if ((v & 0xF0) == 0 && c->prev_ts16 != 0) {
				c->aligned = 1;
				c->rx_pos = 0;
				c->bad_mfas = 0;
				c->st.lomf = 0;
				c->st.realignments++;
			}
		} else if (c->rx_pos == 0) {
			if (v & 0xF0) {
				c->st.mfas_errors++;
				if (++c->bad_mfas >= 2)
					lose(c);
			} else {
				c->bad_mfas = 0;
			}
		}
		c->prev_ts16 = v;
		if (!c->aligned)
			continue;
		if (c->rx_pos == 0) {
			c->st.remote_mf_alarm = (v >> 2) & 1;
		} else {
			c->cur[c->rx_pos] = v >> 4;
			c->cur[c->rx_pos + 15] = v & 0x0F;
		}
		if (c->rx_pos == 15) {                   /* a whole multiframe */
			if (c->have_last)
				for (int ch = 1; ch <= CHANNELS; ch++)
					if (c->cur[ch] == c->last[ch])
						c->rx[ch] = c->cur[ch];
			memcpy(c->last, c->cur, sizeof(c->last));
			c->have_last = 1;
		}
		c->rx_pos = (c->rx_pos + 1) % 16;
	}
	return nframes;
}

int cb_cas_rx(const cb_cas_t *c, int chan)
{
	if (!c || chan < 1 || chan > CHANNELS)
		return CB_LINE_EINVAL;
	return c->rx[chan];
}

int cb_cas_rx_all(const cb_cas_t *c, uint8_t *out)
{
	if (!c || !out)
		return CB_LINE_EINVAL;
	for (int ch = 1; ch <= CHANNELS; ch++)
		out[ch - 1] = c->rx[ch] < 0 ? 0xFF : (uint8_t)c->rx[ch];
	return CHANNELS;
}

void cb_cas_status(const cb_cas_t *c, cb_cas_status_t *st)
{
	if (!c || !st)
		return;
	*st = c->st;
	st->aligned = c->aligned;
}
