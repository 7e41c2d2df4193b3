/*
 * E1 channel-associated signalling in TS16 (G.704 5.1.3, G.732 5.2): the CAS multiframe.
 *
 * What does it do
 *   Writes and reads the ABCD signalling bits of the 30 bearer channels in timeslot 16 of
 *   aligned E1 frames (32 octets each, as the E1 framer and deframer use them).
 *
 * How does it work
 *   Sixteen frames make a CAS multiframe. TS16 of frame 0 is 0000 x y x x (MFAS, x = 1, y = the
 *   remote multiframe alarm); frame k = 1..15 carries abcd of channel k (timeslot k) in its high
 *   nibble and of channel k + 15 (timeslot k + 16) in its low nibble. ABCD = 0000 is not
 *   allowed on transmit (it would imitate the MFAS). The receiver gains multiframe alignment on
 *   an MFAS 0000 whose preceding TS16 was not all zero, loses it after two bad MFAS in a row or
 *   TS16 all zero for a whole multiframe (LOMF), and takes a channel's ABCD only when the same
 *   value arrives in two multiframes in a row.
 */
#ifndef CALLBOX_CAS_H
#define CALLBOX_CAS_H

#include <stdint.h>

typedef struct cb_cas_s cb_cas_t;

typedef struct {
	int aligned;            /* CAS multiframe alignment */
	int lomf;               /* loss of CAS multiframe alignment */
	int remote_mf_alarm;    /* y bit received as 1 */
	uint64_t mfas_errors;
	uint64_t realignments;
} cb_cas_status_t;

cb_cas_t *cb_cas_new(void);
void cb_cas_free(cb_cas_t *c);
/* Transmit ABCD (0x1..0xF) for channel 1..30; CB_LINE_EINVAL for 0 or a bad channel. */
int cb_cas_set_tx(cb_cas_t *c, int chan, int abcd);
void cb_cas_set_tx_alarm(cb_cas_t *c, int on);
/* Write TS16 of nframes frames (32 octets each) in place. */
int cb_cas_insert(cb_cas_t *c, uint8_t *frames, int nframes);
/* Read TS16 of nframes received frames. */
int cb_cas_extract(cb_cas_t *c, const uint8_t *frames, int nframes);
/* Received ABCD of channel 1..30, or -1 before it is known; CB_LINE_EINVAL for a bad channel. */
int cb_cas_rx(const cb_cas_t *c, int chan);
/* Received ABCD of all 30 channels at once into out[0..29] (channel 1 first), 0xFF where not
 * yet known; returns 30, or CB_LINE_EINVAL. */
int cb_cas_rx_all(const cb_cas_t *c, uint8_t *out);
void cb_cas_status(const cb_cas_t *c, cb_cas_status_t *st);

#endif
