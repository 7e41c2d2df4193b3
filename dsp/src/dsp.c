/* What the DSP modules share: error strings, bank allocation. See callbox/dsp.h. */
#include <stdlib.h>

#include "callbox/dsp.h"
#include "private/bank.h"

int cb_bank_alloc(void **bank, size_t bank_size, void **chans, size_t chan_size, int nchan)
{
	if (!bank || !chans || nchan < 1 || nchan > CB_MAX_CHANNELS)
		return CB_EINVAL;
	void *b = calloc(1, bank_size);
	void *c = calloc((size_t)nchan, chan_size);
	if (!b || !c) {
		free(b);
		free(c);
		return CB_ENOMEM;
	}
	*bank = b;
	*chans = c;
	return 0;
}

const char *cb_dsp_strerror(int code)
{
	switch (code) {
	case CB_OK: return "success";
	case CB_EINVAL: return "invalid argument";
	case CB_ECHAN: return "channel outside the bank";
	case CB_ENOMEM: return "out of memory";
	case CB_EFULL: return "the channel's queue is full";
	case CB_ESPACE: return "output array too small";
	case CB_ERANGE: return "level or frequency outside the generator's range";
	case CB_EDIGIT: return "not a DTMF digit (0-9 * # A-D)";
	default: return "unknown error code";
	}
}
