/* TDM (de)interleaving of E1 frames. See callbox/tdm.h. */
#include <stddef.h>
#include "callbox/tdm.h"

#define TIMESLOTS 32            /* G.704 2.3.1 */

void cb_tdm_deinterleave(const uint8_t *frames, uint8_t *chans, int n)
{
	for (int f = 0; f < n; f++)
		for (int ts = 0; ts < TIMESLOTS; ts++)
			chans[(size_t)ts * (size_t)n + (size_t)f] = frames[(size_t)f * TIMESLOTS + (size_t)ts];
}

void cb_tdm_interleave(const uint8_t *chans, uint8_t *frames, int n)
{
	for (int f = 0; f < n; f++)
		for (int ts = 0; ts < TIMESLOTS; ts++)
			frames[(size_t)f * TIMESLOTS + (size_t)ts] = chans[(size_t)ts * (size_t)n + (size_t)f];
}

#define T1_CHANNELS 24

void cb_t1_to_slots(const uint8_t *t1, uint8_t *frames, int n, int dchan, const uint8_t *map, uint8_t fill)
{
	for (int f = 0; f < n; f++) {
		const uint8_t *in = t1 + (size_t)f * T1_CHANNELS;
		uint8_t *out = frames + (size_t)f * TIMESLOTS;
		out[0] = fill;
		for (int ch = 1; ch <= T1_CHANNELS; ch++) {
			uint8_t v = in[ch - 1];
			out[ch] = (map != NULL && ch != dchan) ? map[v] : v;
		}
		for (int ts = T1_CHANNELS + 1; ts < TIMESLOTS; ts++)
			out[ts] = fill;
	}
}

void cb_slots_to_t1(const uint8_t *frames, uint8_t *t1, int n, int dchan, const uint8_t *map)
{
	for (int f = 0; f < n; f++) {
		const uint8_t *in = frames + (size_t)f * TIMESLOTS;
		uint8_t *out = t1 + (size_t)f * T1_CHANNELS;
		for (int ch = 1; ch <= T1_CHANNELS; ch++) {
			uint8_t v = in[ch];
			out[ch - 1] = (map != NULL && ch != dchan) ? map[v] : v;
		}
	}
}
