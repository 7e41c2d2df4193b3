/*
 * DTMF receiver bank (ITU-T Q.23 signals, Q.24 receiver figures).
 *
 * What does it do
 *   Finds DTMF digits (0-9, *, #, A-D) on many channels of 8 kHz linear samples at
 *   once and reports each digit once, when it is accepted, with the channel and the
 *   sample offset (inside the block just processed) where the decision fell. The
 *   callers decode G.711 first. The signal is assumed free of DC.
 *
 * How does it work
 *   Each channel runs Goertzel filters for the eight DTMF frequencies over fixed
 *   blocks of 102 samples (12.75 ms, bins 78.4 Hz apart), carried across calls, so a
 *   call may hand over any number of samples. The complex result of each filter is
 *   kept for the first half of the block (51 samples) and the whole block.
 *
 *   A block is a candidate for a digit when, with r and c the strongest row (low
 *   group) and column (high group) bins: both tones are at least -42 dBm0 (a tone at
 *   -36 dBm0 reads up to 1.3 dB low when 1.5 % off its bin; -55 dBm0 must not pass);
 *   the twist (high - low) is within -14 .. +8 dB; each tone is at least 4 dB
 *   above the other three bins of its group; and the two tones carry at least half of
 *   the block's energy. These limits are loose on purpose: a block's measures carry
 *   the loss of an off-bin tone (up to 1.3 dB) and leakage from the other tone (up to
 *   2 dB on a weak tone).
 *
 *   A digit is accepted when
 *     (a) two or more consecutive blocks are candidates for it;
 *     (b) two consecutive candidates of about equal strength (both nearly full of the
 *         tone) pass the strict checks: both frequencies within 2 % of nominal; twist
 *         within -10.5 .. +6 dB and the two tones at least 75 % of the energy of the two
 *         blocks, both measured with each tone's bin loss for its measured offset taken
 *         back out. The offset comes from the phase turn of the tone between the two
 *         blocks (102 samples apart: exact to about 1 Hz, but only modulo 78.4 Hz);
 *         the turn between the two halves of the later block (51 samples apart: rough,
 *         but unambiguous to +-78 Hz) picks the right multiple;
 *     (c) its duration reaches 2.45 blocks (31 ms, between 23 and 40 ms): the sum of the
 *         pair amplitude over the candidate blocks and the block on each side, over the
 *         largest. A block the tone only partly covers counts by the share it covers,
 *         so the measure does not depend on where the tone falls in the blocks. A tone
 *         of 40 ms holds at least two whole blocks and measures at least 3; one of
 *         23 ms holds at most one and measures at most 1.8 (plus a little leakage).
 *
 *   An accepted digit is held until two consecutive blocks have either of its tones
 *   14 dB (amplitude 0.2) below the level it was accepted at. A block only reads that
 *   low when at least 82 of its 102 samples are silent, so a break shorter than about
 *   20 ms never ends a digit, and a 40 ms pause (which always holds two whole blocks)
 *   always does: a repeated digit after a 40 ms pause counts twice.
 *
 * Acceptance figures (Q.24 AT&T column, ETSI ES 201 235-3; tests/dsp/test_dtmf.py
 * checks each row, at every position of the tone inside the block where timing matters)
 *   frequencies     697, 770, 852, 941 / 1209, 1336, 1477, 1633 Hz
 *   operate         each tone within +-1.5 % (the Q.23 sender tolerance, 1.8 %, also
 *                   passes), -3 .. -36 dBm0 per tone, twist 8 dB normal (low group
 *                   stronger) / 4 dB reverse, >= 40 ms, 15 dB SNR (white noise over
 *                   the band against the pair's power), before or after G.711
 *   non-operate     either tone off by >= 3.5 % (the receiver stops near 2.0 %), tones
 *                   at -55 dBm0 and below (it stops near -42), <= 23 ms (it decides
 *                   near 32 ms: 35 ms always passes, 28 ms never), twist beyond -12 /
 *                   +6.5 dB
 *   pause           >= 40 ms between digits; a break <= 10 ms (ETSI: < 20 ms) does
 *                   not split a digit
 *   talk-off        no digit from dial and call-progress tones (350+440, 425, 450,
 *                   440+480, 480+620 Hz), fax CNG (1100 Hz) and CED (2100 Hz), or any
 *                   MFC/R2 forward or backward pair; sustained synthetic vowels give
 *                   about one false digit every two minutes (no speech corpus yet)
 */
#ifndef CALLBOX_DTMF_H
#define CALLBOX_DTMF_H

#include "callbox/dsp.h"

typedef struct cb_dtmf_bank_s cb_dtmf_bank_t;

typedef struct {
	int chan;               /* channel index in the bank */
	int offset;             /* sample offset inside this call's block where the digit was accepted */
	char digit;             /* '0'-'9', '*', '#', 'A'-'D' */
} cb_dtmf_event_t;

/* A bank of nchan (1 .. 65536) receivers, every channel idle. Writes the bank to *bank
 * and returns 0, or CB_EINVAL / CB_ENOMEM. Free it with cb_dtmf_bank_free(). */
int cb_dtmf_bank_new(cb_dtmf_bank_t **bank, int nchan);
void cb_dtmf_bank_free(cb_dtmf_bank_t *bank);

/* Forget everything a channel has heard (a new call on it). Returns 0 or CB_ECHAN. */
int cb_dtmf_reset(cb_dtmf_bank_t *bank, int chan);

/* The most events one cb_dtmf_process() call of nsamples samples per channel can
 * report: nchan * (nsamples / 102 + 1). Returns it, or CB_EINVAL. */
int cb_dtmf_max_events(const cb_dtmf_bank_t *bank, int nsamples);

/* Run every channel over its next nsamples samples: in holds nchan * nsamples samples,
 * channel-major. Writes the digits accepted in this block to ev, sorted by channel and
 * then offset, and returns how many. max_ev must be at least cb_dtmf_max_events(), else
 * CB_ESPACE and nothing is processed; CB_EINVAL for a bad pointer or count. */
int cb_dtmf_process(cb_dtmf_bank_t *bank, const int16_t *in, int nsamples,
		    cb_dtmf_event_t *ev, int max_ev);

#endif
