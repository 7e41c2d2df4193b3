/* What every channel bank of the DSP library allocates the same way (not part of the API). */
#ifndef CALLBOX_PRIVATE_BANK_H
#define CALLBOX_PRIVATE_BANK_H

#include <stddef.h>

#define CB_MAX_CHANNELS 65536

/* A zeroed bank struct of bank_size bytes and a zeroed array of nchan channel structs of
 * chan_size bytes each. Returns 0, CB_EINVAL (out pointers NULL, nchan outside
 * 1..CB_MAX_CHANNELS) or CB_ENOMEM (nothing allocated). Free both with free(). */
int cb_bank_alloc(void **bank, size_t bank_size, void **chans, size_t chan_size, int nchan);

#endif
