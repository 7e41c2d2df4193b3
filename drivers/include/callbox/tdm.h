/*
 * callbox TDM (de)interleaving of E1 frames (G.704 2.3.1: 32 timeslots of 8 bits).
 *
 * What does it do
 *   Turns n frames of 32 octets (frame-major, as they come off the line: TS0..TS31
 *   of frame 0, then of frame 1, ...) into 32 timeslot blocks of n octets
 *   (timeslot-major: n octets of TS0, then n of TS1, ...), and back. The engine
 *   works on the timeslot blocks: one 20 ms block of a B-channel is 160 contiguous
 *   samples, the D-channel (TS16) 160 contiguous octets.
 *
 * How does it work
 *   A plain transpose of an n x 32 octet matrix. The two buffers must not overlap.
 */
#ifndef CALLBOX_TDM_H
#define CALLBOX_TDM_H

#include <stdint.h>

/* frames: n x 32 (frame-major) -> chans: 32 x n (timeslot-major). */
void cb_tdm_deinterleave(const uint8_t *frames, uint8_t *chans, int n);
/* chans: 32 x n (timeslot-major) -> frames: n x 32 (frame-major). */
void cb_tdm_interleave(const uint8_t *chans, uint8_t *frames, int n);

/*
 * T1 frames in the engine's 32-slot layout (so one switch serves E1 and T1 spans).
 *   cb_t1_to_slots: n T1 frames of 24 octets (channels 1..24, frame-major) -> n frames of 32
 *   octets with channel k in slot k; slot 0 and slots 25..31 get `fill`. Every channel but
 *   `dchan` (1..24; 0: none) goes through `map` (256 entries, e.g. mu-law to A-law), the
 *   D-channel's octets are copied untouched (HDLC data).
 *   cb_slots_to_t1: the reverse (slots 1..24 -> channels 1..24, `map` on all but `dchan`).
 * map may be NULL (copy). Buffers must not overlap.
 */
void cb_t1_to_slots(const uint8_t *t1, uint8_t *frames, int n, int dchan, const uint8_t *map, uint8_t fill);
void cb_slots_to_t1(const uint8_t *frames, uint8_t *t1, int n, int dchan, const uint8_t *map);

#endif
