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
