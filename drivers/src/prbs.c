/* O.151 PRBS generator and checker. See callbox/prbs.h. */
#include <stdlib.h>
#include <string.h>
#include "callbox/prbs.h"

#define SYNC_WINDOW 1024
#define SYNC_LOSS_ERRORS (SYNC_WINDOW / 5)

struct cb_prbs_s {
	int order, tap;         /* feedback from the bits order and tap places back */
	uint32_t mask;          /* order ones */
	int inverted;           /* the sequence is sent inverted */
	uint32_t tx;            /* generator register, newest bit in bit 0 */
	int tx_error;           /* flip the next generated bit */
	uint32_t rx;            /* checker register */
	int rx_fill;            /* bits in rx while searching */
	int good;               /* consecutive correct predictions while searching */
	int synced;
	int win_bits, win_errors;
	cb_prbs_stats_t st;
};

static const struct { int order, tap; } polys[] = {
	{11, 9}, {15, 14}, {20, 3}, {23, 18},    /* O.151 */
};

cb_prbs_t *cb_prbs_new(int order, int inverted)
{
	int tap = 0;
	for (size_t i = 0; i < sizeof(polys) / sizeof(polys[0]); i++)
		if (polys[i].order == order)
			tap = polys[i].tap;
	if (!tap)
		return NULL;
	cb_prbs_t *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->order = order;
	p->tap = tap;
	p->mask = (order == 32) ? 0xFFFFFFFFu : ((1u << order) - 1u);
	p->inverted = inverted ? 1 : 0;
	p->tx = p->mask;                         /* any non-zero start */
	return p;
}

void cb_prbs_free(cb_prbs_t *p)
{
	free(p);
}

static int next_bit(const cb_prbs_t *p, uint32_t reg)
{
	return (int)(((reg >> (p->order - 1)) ^ (reg >> (p->tap - 1))) & 1u);
}

void cb_prbs_generate(cb_prbs_t *p, uint8_t *out, int nbytes)
{
	for (int i = 0; i < nbytes; i++) {
		uint8_t o = 0;
		for (int k = 7; k >= 0; k--) {
			int b = next_bit(p, p->tx);
			p->tx = ((p->tx << 1) | (uint32_t)b) & p->mask;
			b ^= p->inverted;
			if (p->tx_error) {
				b ^= 1;
				p->tx_error = 0;
			}
			o |= (uint8_t)(b << k);
		}
		out[i] = o;
	}
}

void cb_prbs_insert_error(cb_prbs_t *p)
{
	p->tx_error = 1;
}

void cb_prbs_check(cb_prbs_t *p, const uint8_t *in, int nbytes)
{
	for (int i = 0; i < nbytes; i++) {
		for (int k = 7; k >= 0; k--) {
			int b = ((in[i] >> k) & 1) ^ p->inverted;
			if (!p->synced) {
				if (p->rx_fill >= p->order) {
					if (next_bit(p, p->rx) == b) {
						if (++p->good >= 2 * p->order) {
							p->synced = 1;
							p->win_bits = p->win_errors = 0;
						}
					} else {
						p->good = 0;
					}
				} else {
					p->rx_fill++;
				}
				p->rx = ((p->rx << 1) | (uint32_t)b) & p->mask;
				continue;
			}
			int want = next_bit(p, p->rx);
			p->rx = ((p->rx << 1) | (uint32_t)want) & p->mask;   /* free-running */
			p->st.bits++;
			p->win_bits++;
			if (want != b) {
				p->st.errors++;
				p->win_errors++;
			}
			if (p->win_bits == SYNC_WINDOW) {
				if (p->win_errors > SYNC_LOSS_ERRORS) {
					p->synced = 0;
					p->good = 0;
					p->rx_fill = 0;
					p->st.sync_losses++;
				}
				p->win_bits = p->win_errors = 0;
			}
		}
	}
}

void cb_prbs_stats(const cb_prbs_t *p, cb_prbs_stats_t *st)
{
	*st = p->st;
	st->synced = p->synced;
}

void cb_prbs_reset_stats(cb_prbs_t *p)
{
	memset(&p->st, 0, sizeof(p->st));
}
