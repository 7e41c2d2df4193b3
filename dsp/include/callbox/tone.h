/*
 * Tone generator bank: DTMF digits and call-progress tones for many channels.
 *
 * What does it do
 *   Each channel sends either a queue of DTMF digits (each with its own on time, off
 *   time, level and twist) or a tone of one or two frequencies, continuous or
 *   following a cadence of on/off pairs played once or repeated. One call fills the
 *   next block of every channel; an idle channel gets zeros.
 *
 * How does it work
 *   Direct digital synthesis: a 32-bit phase accumulator per frequency (2^32 = one
 *   cycle, so a frequency is exact to 2 uHz) reads a one-cycle sine table of 1024
 *   points, built when the bank is made, with linear interpolation between points
 *   (error below -100 dB of full scale). Segment lengths are counted in samples
 *   (ms * 8), so cadences are exact and do not drift. Every burst (a digit, or an on
 *   period after a silent one) starts at phase zero, so it starts without a click.
 *   Levels are per tone, in dBm0 referred to the A-law 0 dBm0 sine (peak 22827,
 *   callbox/dsp.h); a request whose tones would add up beyond full scale is refused
 *   (CB_ERANGE) rather than clipped.
 *
 *   DTMF twist is high group minus low group in dB (the sign spandsp and Asterisk
 *   use): the high-group tone is sent at level_dbm0 and the low-group tone at
 *   level_dbm0 - twist_db, so a negative twist is "normal" twist (low group stronger,
 *   as a long loop leaves it).
 *
 *   A channel does one thing at a time: queueing digits stops a tone, and starting a
 *   tone drops queued digits. A channel stays active until the off period after its
 *   last digit, or the last off period of a cadence played once, has elapsed.
 *
 * Acceptance figures (tests/dsp/test_tones.py)
 *   DTMF: Q.23 frequencies; the receiver of callbox/dtmf.h decodes every digit; on
 *   and off times exact to the sample. Call-progress tones: frequencies within 0.1 Hz
 *   of the request, level within 0.1 dB, cadence exact to the sample.
 */
#ifndef CALLBOX_TONE_H
#define CALLBOX_TONE_H

#include "callbox/dsp.h"

typedef struct cb_tone_bank_s cb_tone_bank_t;

/* A bank of nchan (1 .. 65536) generators, all idle. Writes the bank to *bank and
 * returns 0, or CB_EINVAL / CB_ENOMEM. Free it with cb_tone_bank_free(). */
int cb_tone_bank_new(cb_tone_bank_t **bank, int nchan);
void cb_tone_bank_free(cb_tone_bank_t *bank);

/* Queue digits (a NUL-terminated string of 0-9 * # A-D) on a channel: each sounds for
 * on_ms (1 .. 10000) then is silent for off_ms (0 .. 10000). Returns the number of
 * digits still queued on the channel, or CB_EINVAL, CB_ECHAN, CB_EDIGIT, CB_ERANGE
 * (level below -60 dBm0, or the pair would pass full scale), CB_EFULL (more than
 * 64 digits would be waiting). */
int cb_tone_send_dtmf(cb_tone_bank_t *bank, int chan, const char *digits, int on_ms, int off_ms,
		      double level_dbm0, double twist_db);

/* Play f1 (+ f2; f2 = 0 for a single tone), each at level_dbm0, on a channel, replacing
 * whatever it was doing. cadence_ms holds ncad (on_ms, off_ms) pairs (0 .. 16 pairs,
 * each value 0 .. 60000, at least one on time > 0); ncad = 0 means continuous. repeat
 * loops the cadence; otherwise the channel goes idle after its last pair. Returns 0, or
 * CB_EINVAL, CB_ECHAN, CB_ERANGE (f1 not in 1 .. 3999 Hz, f2 not 0 or in 1 .. 3999 Hz,
 * level below -60 dBm0, or the tones would pass full scale). */
int cb_tone_play(cb_tone_bank_t *bank, int chan, double f1, double f2, double level_dbm0,
		 const int *cadence_ms, int ncad, int repeat);

/* Silence a channel and drop its queue. Returns 0 or CB_ECHAN. */
int cb_tone_stop(cb_tone_bank_t *bank, int chan);

/* 1 while a channel sends digits or a tone, 0 when idle, or CB_ECHAN. */
int cb_tone_active(const cb_tone_bank_t *bank, int chan);

/* Write the next nsamples samples of every channel to out (nchan * nsamples samples,
 * channel-major). Returns nsamples, or CB_EINVAL. */
int cb_tone_generate(cb_tone_bank_t *bank, int16_t *out, int nsamples);

#endif
