/*
 * callbox DSP library: what every module shares (error codes, sample rate, level reference).
 *
 * What does it do
 *   The library is the box's signal processing on 8 kHz linear samples: G.711
 *   (callbox/g711.h), a DTMF receiver bank (callbox/dtmf.h) and a tone generator bank
 *   (callbox/tone.h). This header holds what they have in common.
 *
 * How does it work
 *   Everything works on blocks for many channels at once: one call per 20 ms block
 *   (160 samples) handles every channel of a bank. Sample arrays belong to the caller
 *   and are laid out channel-major: channel 0's block, then channel 1's, and so on.
 *   State lives in opaque bank structs (layouts in src/private/); the library keeps no
 *   mutable globals and never calls back into its caller.
 *
 *   Functions return a count (or 0) on success and a negative CB_E* code on failure;
 *   cb_dsp_strerror() names the code. A call that fails has changed nothing.
 *
 * Levels
 *   dBm0 is referred to G.711's full scale: a sine whose peak is the full scale of
 *   the code is +3.14 dBm0 in A-law and +3.17 dBm0 in mu-law (G.711). Linear samples
 *   are 16-bit with A-law's 13-bit scale shifted left by 3 (full scale 4096 << 3 =
 *   32768) and mu-law's 14-bit scale shifted left by 2 (full scale 8159 << 2 = 32636).
 *   So a 0 dBm0 sine has a peak of 32768 * 10^(-3.14/20) = 22827 (A-law) or
 *   32636 * 10^(-3.17/20) = 22657 (mu-law), and an RMS value of 16141 or 16021.
 *   The DTMF receiver and the tone generator use the A-law figure (the box's trunks
 *   are E1); the difference to mu-law is 0.06 dB.
 */
#ifndef CALLBOX_DSP_H
#define CALLBOX_DSP_H

#include <stddef.h>
#include <stdint.h>

enum {
	CB_DSP_RATE = 8000      /* samples per second on every channel */
};

/* Peak of a 0 dBm0 sine in 16-bit linear, A-law reference (see "Levels" above). */
#define CB_DSP_PEAK_0DBM0 22827.0576

/* Error codes: every function returns one of these (negative) or a count >= 0. */
enum {
	CB_OK = 0,
	CB_EINVAL = -1,         /* bad argument (NULL pointer, negative count, bad value) */
	CB_ECHAN = -2,          /* channel number outside the bank */
	CB_ENOMEM = -3,         /* allocation failed */
	CB_EFULL = -4,          /* a channel's queue has no room for the request */
	CB_ESPACE = -5,         /* the caller's output array is too small */
	CB_ERANGE = -6,         /* a level or frequency outside what can be generated */
	CB_EDIGIT = -7          /* a character that is not a DTMF digit (0-9 * # A-D) */
};

/* A short English description of a CB_E* code ("unknown error code" for others). */
const char *cb_dsp_strerror(int code);

#endif
