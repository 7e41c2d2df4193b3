/*
 * callbox HDLC bank: the layer-1 framing of Q.921 D-channels (64 kbit/s, E1 TS16),
 * for many channels per call.
 *
 * What does it do
 *   Sends queued frames and receives frames on nchan independent bit streams, with
 *   the framing Q.921 2.2-2.10 takes from HDLC (ISO/IEC 13239):
 *   - flags 0x7E open and close a frame; one flag may close one frame and open the
 *     next; an idle channel sends flags (Q.921 2.2);
 *   - a 0 is inserted after five consecutive 1s inside a frame and removed on
 *     receive (transparency, Q.921 2.6);
 *   - FCS-16 (Q.921 2.7): x^16 + x^12 + x^5 + 1, reflected, register preset to
 *     0xFFFF, sent complemented, low octet first. A good frame leaves the residue
 *     0xF0B8 in the receiver (CRC-16/X.25: "123456789" gives 0x906E);
 *   - seven or more 1s abort a frame (Q.921 2.10); it is dropped and counted.
 *   Invalid frames (Q.921 2.9) are dropped and counted: not a whole number of
 *   octets, or a bad FCS, as FCS errors (neither can carry a valid FCS); fewer than
 *   3 octets (FCS included) as too short; more than max_frame octets without FCS as
 *   too long (dropped up to the next flag). Good frames are handed out without
 *   their FCS.
 *
 * How does it work
 *   Bit order: the timeslot's octets are a bit stream read most significant bit
 *   first (wire order, like every line stream in this library). Inside that stream
 *   each HDLC data octet, and each FCS octet, goes least significant bit first, as
 *   Q.921 (2.8) and E1 framers carrying it in TS16 do. Flags are symmetric.
 *
 *   Each channel keeps a receive shift state (ones in a row, bits collected) and a
 *   ring of CB_HDLC_TX_QUEUE (32) frames to send, each stored with its FCS. cb_hdlc_rx
 *   and cb_hdlc_tx take or give n octets of every channel, channel-major: n octets
 *   of channel 0, then n of channel 1, and so on. cb_hdlc_rx copies the good frames
 *   one after another into the caller's buffer and describes them in an array
 *   (channel, offset, length), channel 0's frames first, each channel's in order.
 *   Output needed for one call, at most: nchan * (n + max_frame) octets and
 *   nchan * (n / 4 + 2) frame records (a good frame takes at least 32 bits of line).
 */
#ifndef CALLBOX_HDLC_H
#define CALLBOX_HDLC_H

#include <stdint.h>

/* Per-channel counters, read with cb_hdlc_counters. */
typedef struct {
	uint64_t rx_frames;     /* good frames received */
	uint64_t rx_fcs_errors; /* frames with a bad FCS or not a whole number of octets */
	uint64_t rx_aborts;     /* frames ended by seven or more ones */
	uint64_t rx_too_long;   /* frames longer than max_frame (without FCS) */
	uint64_t rx_too_short;  /* frames of 1 or 2 octets, FCS included */
	uint64_t tx_frames;     /* frames sent completely */
} cb_hdlc_counters_t;

/* One received frame in the caller's buffer. */
typedef struct {
	int chan;               /* channel the frame came from */
	int offset;             /* start of the frame in the caller's buffer */
	int len;                /* octets, FCS removed */
} cb_hdlc_frame_t;

typedef struct cb_hdlc_bank_s cb_hdlc_bank_t;

/* Frames each channel can hold for sending (an enum: exported as lib.CB_HDLC_TX_QUEUE). */
enum { CB_HDLC_TX_QUEUE = 32 };

/* nchan 1..1024 channels, frames of 1..max_frame (1..4096) octets without FCS;
 * NULL for bad arguments or when out of memory. */
cb_hdlc_bank_t *cb_hdlc_bank_new(int nchan, int max_frame);
void cb_hdlc_bank_free(cb_hdlc_bank_t *b);
/* Receive n octets per channel (channel-major). Good frames are copied into buf
 * (capacity cap octets) and described in fr (at most max_fr); returns the frame
 * count, CB_LINE_EINVAL, or CB_LINE_EFULL when buf or fr is smaller than the
 * bounds above allow (frames then go missing). */
int cb_hdlc_rx(cb_hdlc_bank_t *b, const uint8_t *in, int n, uint8_t *buf, int cap,
	       cb_hdlc_frame_t *fr, int max_fr);
/* Queue a frame of len octets (FCS added here); CB_LINE_OK, CB_LINE_EINVAL, or
 * CB_LINE_EFULL when the channel already holds CB_HDLC_TX_QUEUE frames. */
int cb_hdlc_send(cb_hdlc_bank_t *b, int chan, const uint8_t *data, int len);
/* Frames still queued on a channel (the one being sent included), or CB_LINE_EINVAL. */
int cb_hdlc_pending(const cb_hdlc_bank_t *b, int chan);
/* Produce n octets per channel (channel-major); returns n or CB_LINE_EINVAL. */
int cb_hdlc_tx(cb_hdlc_bank_t *b, uint8_t *out, int n);
int cb_hdlc_counters(const cb_hdlc_bank_t *b, int chan, cb_hdlc_counters_t *c);


#endif
