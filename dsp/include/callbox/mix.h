/*
 * Conference mixing of A-law channels (supervisor listen, whisper and barge-in).
 *
 * What does it do
 *   Builds any number of mixed outputs in one call per 20 ms block: output k is the
 *   sum of the next counts[k] source blocks, each of n A-law octets, decoded to
 *   linear, added with saturation at the 16-bit limits, and encoded to A-law again.
 *
 * How does it work
 *   Sources are laid out back to back in `in`: output 0's counts[0] blocks, then
 *   output 1's, and so on (so a channel heard by two outputs appears twice). The
 *   caller owns every buffer; nothing is kept between calls. A count of 0 gives an
 *   idle block (0xD5); a count of 1 passes the block through unchanged.
 *
 * Returns
 *   the number of outputs written, or CB_EINVAL (null pointer, n < 1, nout < 0,
 *   a count below 0 or above CB_MIX_MAX_SOURCES); on failure nothing is written.
 */
#ifndef CALLBOX_MIX_H
#define CALLBOX_MIX_H

#include <stdint.h>

#include "callbox/dsp.h"

enum { CB_MIX_MAX_SOURCES = 16 };

int cb_mix_alaw(const uint8_t *in, const int *counts, int nout, int n, uint8_t *out);

#endif
