/*
 * callbox line library: E1 framing (G.704/G.706), HDLC for D-channels, TDM (de)interleaving.
 *
 * What does it do
 *   cb_e1_tx writes the TS0 framing pattern into blocks of E1 frames; cb_e1_rx finds
 *   frame alignment on a raw bitstream at any bit offset, follows it, reports LOS,
 *   AIS, LOF and RAI and counts errors; cb_hdlc_* carry D-channel frames over a
 *   64 kbit/s timeslot; cb_tdm_* turn 160 frames x 32 octets into 32 timeslot blocks
 *   of 160 octets and back.
 *
 * How does it work
 *   The raw bitstream is packed MSB first: bit 1 of a timeslot is the octet's MSB.
 *   Frame alignment (G.706 4.1): found when a FAS (x0011011) in frame n, an NFAS with
 *   bit 2 = 1 in n+1 and a FAS in n+2 are seen (4.1.2); the search moves bit by bit.
 *   Lost after 3 consecutive bad FAS (4.1.1). Aligned frames pass through a FIFO so
 *   that each call returns exactly as many frames as it was given bits for; while not
 *   aligned the frames are all ones. LOS: 2048 or more consecutive zeros (1 ms, ETS 300
 *   233). AIS: fewer than 3 zeros in each of two consecutive 512-bit periods (G.775).
 *   CRC-4 (G.704 2.3.3, when switched on): 16-frame multiframe, MFAS 001011 in bit 1
 *   of frames 1-11 (odd), C1-C4 (the CRC of the previous sub-multiframe, x^4+x+1,
 *   C bits counted as 0, C1 first) in bit 1 of frames 0,2,4,6 / 8,10,12,14, E bits in
 *   frames 13 and 15. Multiframe alignment: the MFAS found twice, 16 frames (2 ms)
 *   apart (G.706 4.2); >= 915 errored of 1000 checked sub-multiframes force a new
 *   frame search (4.3.2); no multiframe within 400 ms flags a non-CRC far end
 *   (Annex B). Sa bits and TS16 CAS are issue #4.
 *
 *   HDLC: flags 0x7E, a zero inserted after five ones, FCS-16 (x^16+x^12+x^5+1,
 *   reflected, initial 0xFFFF, complemented, low octet first; good residue 0xF0B8),
 *   seven ones abort a frame, flags when idle. Data octets are sent least significant
 *   bit first inside the wire-order (MSB-first) timeslot bitstream.
 */
#ifndef CALLBOX_LINE_H
#define CALLBOX_LINE_H

#include <stddef.h>
#include <stdint.h>

#define CB_LINE_OK       0
#define CB_LINE_EINVAL  -1   /* bad argument */
#define CB_LINE_ENOMEM  -2   /* allocation failed */
#define CB_LINE_EFULL   -3   /* transmit queue or output full */

const char *cb_line_strerror(int code);

typedef struct {
	int los, ais, lof, rai, aligned;
	int lomf;               /* CRC-4 on, frame aligned, no CRC-4 multiframe alignment */
	int far_no_crc4;        /* no CRC-4 multiframe found for 400 ms: a non-CRC far end (G.706 Annex B) */
} cb_e1_status_t;

typedef struct {
	uint64_t frames;        /* aligned frames received */
	uint64_t fas_errors;    /* bad FAS words while aligned */
	uint64_t nfas_errors;   /* NFAS with bit 2 = 0 while aligned */
	uint64_t realignments;  /* alignment gained after being lost */
	uint64_t slips;         /* frames dropped or repeated by the output FIFO */
	uint64_t los_events;    /* LOS raised */
	uint64_t ais_events;    /* AIS raised */
	uint64_t crc4_errors;   /* sub-multiframes whose CRC-4 did not match */
	uint64_t ebit_errors;   /* E bits received as 0 (the far end saw CRC-4 errors) */
	uint64_t crc4_blocks;   /* sub-multiframes checked */
	uint64_t mf_realignments; /* CRC-4 multiframe alignment gained */
} cb_e1_counters_t;

typedef struct cb_e1_tx_s cb_e1_tx_t;
typedef struct cb_e1_rx_s cb_e1_rx_t;

cb_e1_tx_t *cb_e1_tx_new(void);
void cb_e1_tx_free(cb_e1_tx_t *t);
void cb_e1_tx_set_rai(cb_e1_tx_t *t, int on);
/* CRC-4 multiframe on transmit: MFAS, C bits of the previous sub-multiframe, E bits. */
void cb_e1_tx_set_crc4(cb_e1_tx_t *t, int on);
/* Report n received errored sub-multiframes: each sends one E bit as 0. */
void cb_e1_tx_report_crc_errors(cb_e1_tx_t *t, int n);
/* G.706 Annex B: towards a far end without CRC-4, keep the multiframe, send every E bit as 0. */
void cb_e1_tx_set_ebits_zero(cb_e1_tx_t *t, int on);
/* Copy nframes frames (32 octets each) from in to out, writing TS0. */
int cb_e1_tx_frame(cb_e1_tx_t *t, const uint8_t *in, uint8_t *out, int nframes);

cb_e1_rx_t *cb_e1_rx_new(void);
void cb_e1_rx_free(cb_e1_rx_t *r);
/* Consume nframes*32 octets of raw bits, write exactly nframes frames to out. */
int cb_e1_rx_deframe(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes);
void cb_e1_rx_status(const cb_e1_rx_t *r, cb_e1_status_t *st);
void cb_e1_rx_counters(const cb_e1_rx_t *r, cb_e1_counters_t *c);
void cb_e1_rx_reset_counters(cb_e1_rx_t *r);
/* CRC-4 multiframe on receive: alignment (G.706 4.2), CRC-4 check, E bits, 915/1000 rule. */
void cb_e1_rx_set_crc4(cb_e1_rx_t *r, int on);
/* CRC-4 errors since the last call (to send back as E bits). */
int cb_e1_rx_take_crc_errors(cb_e1_rx_t *r);

typedef struct {
	uint64_t rx_frames, rx_fcs_errors, rx_aborts, rx_too_long, rx_too_short, tx_frames;
} cb_hdlc_counters_t;
typedef struct {
	int chan;       /* channel the frame came from */
	int offset;     /* start of the frame in the caller's output buffer */
	int len;        /* octets, FCS removed */
} cb_hdlc_frame_t;
typedef struct cb_hdlc_bank_s cb_hdlc_bank_t;

cb_hdlc_bank_t *cb_hdlc_bank_new(int nchan, int max_frame);
void cb_hdlc_bank_free(cb_hdlc_bank_t *b);
/* Receive n octets per channel (channel-major). Good frames are copied into buf
 * (capacity cap) and described in fr (at most max_fr); returns the frame count. */
int cb_hdlc_rx(cb_hdlc_bank_t *b, const uint8_t *in, int n, uint8_t *buf, int cap,
	       cb_hdlc_frame_t *fr, int max_fr);
int cb_hdlc_send(cb_hdlc_bank_t *b, int chan, const uint8_t *data, int len);
/* Produce n octets per channel (channel-major). */
int cb_hdlc_tx(cb_hdlc_bank_t *b, uint8_t *out, int n);
int cb_hdlc_counters(const cb_hdlc_bank_t *b, int chan, cb_hdlc_counters_t *c);

/* The 30 bearer timeslots (1-15, 17-31) of n frames <-> a payload stream of n x 30 octets,
 * in transmission order (what a framed BERT runs over). */
void cb_e1_payload_insert(uint8_t *frames, const uint8_t *payload, int n);
void cb_e1_payload_extract(const uint8_t *frames, uint8_t *payload, int n);

/* frames: n x 32 (frame-major) <-> chans: 32 x n (timeslot-major) */
void cb_tdm_deinterleave(const uint8_t *frames, uint8_t *chans, int n);
void cb_tdm_interleave(const uint8_t *chans, uint8_t *frames, int n);

#endif
