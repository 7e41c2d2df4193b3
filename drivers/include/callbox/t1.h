/*
 * callbox T1 framer and deframer (1544 kbit/s, G.704 2.1, T1.403, T1.231).
 *
 * What does it do
 *   Frames 24-channel payload into a raw T1 bitstream and back: D4/SF (12-frame Ft/Fs
 *   pattern) or ESF (24 frames: FPS 001011, CRC-6, 4 kbit/s facility data link), robbed-bit
 *   signalling (A/B in SF frames 6 and 12; A/B/C/D in ESF frames 6, 12, 18, 24), both
 *   yellow-alarm forms (SF: bit 2 of every channel 0; ESF: FDL 1111111100000000), frame
 *   alignment on a raw stream, out-of-frame and reframe, LOS and AIS, and counters.
 *
 * How does it work
 *   A frame is 193 bits: the F bit, then channels 1..24, eight bits each, sent MSB first;
 *   the raw stream is packed MSB first, so nframes must be a multiple of 8 (8 frames are
 *   exactly 193 octets; the 20 ms block of 160 frames is 3860 octets). Payload is
 *   nframes x 24 octets. The deframer keeps a 193-bit phase; when not aligned it scores
 *   every candidate phase over the last 48 frames (SF: Ft and Fs; ESF: FPS) and takes the
 *   single phase that matches with no error (two or more: it waits). Out of frame: 2 or more
 *   errors in 4 consecutive Ft (SF) or FPS (ESF) bits. CRC-6 (x^6 + x + 1, C1 first) covers
 *   the previous superframe's 4632 bits with its F bits taken as 1. Received signalling bits
 *   are taken only when the same value arrives in 2 superframes in a row. LOS: 175 zero
 *   bits in a row, cleared by 12.5 % ones over 175 bits; AIS: fewer than 9 zeros in 8192
 *   bits while out of frame (framed all ones is not AIS).
 */
#ifndef CALLBOX_T1_H
#define CALLBOX_T1_H

#include <stdint.h>

enum cb_t1_framing {
	CB_T1_SF = 0,           /* D4 superframe, 12 frames */
	CB_T1_ESF = 1           /* extended superframe, 24 frames */
};

typedef struct {
	int los;
	int ais;
	int oof;                /* out of frame (and not LOS) */
	int yellow;             /* remote alarm indication received */
	int aligned;
} cb_t1_status_t;

typedef struct {
	uint64_t frames;        /* aligned frames received */
	uint64_t fbit_errors;   /* Ft/Fs (SF) or FPS (ESF) bits received wrong while aligned */
	uint64_t crc6_errors;   /* ESF superframes whose CRC-6 did not match */
	uint64_t superframes;   /* superframes checked */
	uint64_t oof_events;    /* alignment lost */
	uint64_t reframes;      /* alignment gained */
	uint64_t los_events;
	uint64_t ais_events;
} cb_t1_counters_t;

typedef struct cb_t1_tx_s cb_t1_tx_t;
typedef struct cb_t1_rx_s cb_t1_rx_t;

/* Framer for SF or ESF; NULL when out of memory or framing is not CB_T1_SF/CB_T1_ESF. */
cb_t1_tx_t *cb_t1_tx_new(int framing);
void cb_t1_tx_free(cb_t1_tx_t *t);
/* Send the yellow alarm (remote alarm indication). */
void cb_t1_tx_set_yellow(cb_t1_tx_t *t, int on);
/* Robbed-bit signalling: 0 off; 1 on, with abcd (bit 3 = A .. bit 0 = D) per channel 0..23. */
int cb_t1_tx_set_rbs(cb_t1_tx_t *t, int on);
int cb_t1_tx_set_abcd(cb_t1_tx_t *t, int chan, int abcd);
/* nframes x 24 payload octets -> nframes x 193 bits (nframes % 8 == 0); returns nframes or CB_LINE_EINVAL. */
int cb_t1_tx_frame(cb_t1_tx_t *t, const uint8_t *payload, uint8_t *raw, int nframes);

cb_t1_rx_t *cb_t1_rx_new(int framing);
void cb_t1_rx_free(cb_t1_rx_t *r);
/* nframes x 193 raw bits -> nframes x 24 payload octets (idle 0xFF while out of frame);
 * nframes % 8 == 0; returns nframes or CB_LINE_EINVAL. */
int cb_t1_rx_deframe(cb_t1_rx_t *r, const uint8_t *raw, uint8_t *payload, int nframes);
/* The same, and for delivered frame j: starts[j] = the stream bit of its F bit (counted from
 * the first bit ever given), fbits[j] = that F bit; -1 and 1 for the all-ones fill frames
 * (either array may be NULL). */
int cb_t1_rx_deframe_at(cb_t1_rx_t *r, const uint8_t *raw, uint8_t *payload, int nframes, int64_t *starts,
			uint8_t *fbits);
void cb_t1_rx_status(const cb_t1_rx_t *r, cb_t1_status_t *st);
void cb_t1_rx_counters(const cb_t1_rx_t *r, cb_t1_counters_t *c);
/* Received signalling of channel 0..23 (bit 3 = A .. bit 0 = D; SF gives A and B only,
 * C and D repeat them); -1 before two equal superframes. CB_LINE_EINVAL for a bad channel. */
int cb_t1_rx_abcd(const cb_t1_rx_t *r, int chan);
/* Robbed-bit signalling on receive (with it on, bit 8 of signalling frames is signalling). */
void cb_t1_rx_set_rbs(cb_t1_rx_t *r, int on);

#endif
