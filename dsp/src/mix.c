/* Conference mixing of A-law blocks: see callbox/mix.h. */
#include <string.h>

#include "callbox/g711.h"
#include "callbox/mix.h"

#define MAX_BLOCK 8000            /* one second: far more than a 20 ms block */

int cb_mix_alaw(const uint8_t *in, const int *counts, int nout, int n, uint8_t *out)
{
	if (!in || !counts || !out || nout < 0 || n < 1 || n > MAX_BLOCK)
		return CB_EINVAL;
	for (int k = 0; k < nout; k++)
		if (counts[k] < 0 || counts[k] > CB_MIX_MAX_SOURCES)
			return CB_EINVAL;
	int16_t lin[MAX_BLOCK];
	int32_t acc[MAX_BLOCK];
	const uint8_t *src = in;
	for (int k = 0; k < nout; k++) {
		uint8_t *dst = out + (size_t)k * n;
		if (counts[k] == 0) {
			memset(dst, 0xD5, (size_t)n);
			continue;
		}
		if (counts[k] == 1) {
			memcpy(dst, src, (size_t)n);
			src += n;
			continue;
		}
		memset(acc, 0, sizeof(acc[0]) * (size_t)n);
		for (int s = 0; s < counts[k]; s++, src += n) {
			cb_g711_alaw_decode(src, lin, n);
			for (int i = 0; i < n; i++)
				acc[i] += lin[i];
		}
		for (int i = 0; i < n; i++)
			lin[i] = (int16_t)(acc[i] > 32767 ? 32767 : acc[i] < -32768 ? -32768 : acc[i]);
		cb_g711_alaw_encode(lin, dst, n);
	}
	return nout;
}
