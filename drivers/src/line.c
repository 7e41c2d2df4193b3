/* Library-wide parts of callbox._line. See callbox/line.h. */
#include "callbox/line.h"

const char *cb_line_strerror(int code)
{
	switch (code) {
	case CB_LINE_OK: return "success";
	case CB_LINE_EINVAL: return "invalid argument";
	case CB_LINE_ENOMEM: return "out of memory";
	case CB_LINE_EFULL: return "queue or output buffer full";
	default: return "unknown error";
	}
}
