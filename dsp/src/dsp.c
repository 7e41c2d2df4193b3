/* What the DSP modules share: error strings. See callbox/dsp.h. */
#include "callbox/dsp.h"

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
