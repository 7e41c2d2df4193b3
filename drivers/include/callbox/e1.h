/*
 * callbox E1 framer and deframer (2048 kbit/s, G.704 2.3, G.706 4.1, G.775).
 *
 * What does it do
 *   cb_e1_tx_frame copies blocks of 32-octet frames and writes TS0 into them: the
 *   frame alignment signal (FAS) `C 0011011` in even frames and the NFAS
 *   `Si 1 A Sa4 Sa5 Sa6 Sa7 Sa8` in odd ones (G.704 Table 5A). Without CRC-4, C and
 *   Si are 1; the Sa bits are 1 (unused on international links); A is the remote
 *   alarm (RAI), set with cb_e1_tx_set_rai.
 *
 *   cb_e1_rx_deframe takes the raw bits of a line, at any bit offset, finds and keeps
 *   frame alignment, and hands back exactly as many 32-octet frames as it was given
 *   frame times: the aligned frames, one frame time late, and all-ones (0xFF)
 *   frames while it is not aligned. It reports LOS, AIS, LOF and RAI and counts errors.
 *
 *   With CRC-4 switched on (both directions): the 16-frame multiframe of G.704
 *   2.3.3 (MFAS 001011 in bit 1 of frames 1-11 odd, C1-C4 in bit 1 of frames 0,2,4,6
 *   and 8,10,12,14 carrying the CRC of the previous sub-multiframe, E bits in frames
 *   13 and 15), multiframe alignment (two MFAS 2 ms apart, G.706 4.2), CRC and E-bit
 *   counting, a new frame search after >= 915 errored of 1000 sub-multiframes (4.3.2)
 *   and a non-CRC far end flagged after 400 ms without a multiframe (Annex B).
 *
 * How does it work
 *   The deframer works through its input one frame time (256 bits) at a time, in
 *   stream order, so the result does not depend on how the stream is cut into calls.
 *   For each frame time it
 *   1. updates the defect detectors on the new bits:
 *      LOS  when a whole call's input, or 2048 consecutive bits (1 ms, ETS 300 233),
 *           has no ones; LOS forces loss of alignment and clears with the first one.
 *      AIS  when each of two consecutive 512-bit periods has fewer than 3 zeros while
 *           not aligned; it clears after two periods with 3 or more zeros each, or
 *           when alignment is gained (G.775).
 *   2. runs the alignment machine as far as the bits go:
 *      search   a FAS (bits 2-8 = 0011011) is looked for at every bit position. A
 *               candidate in frame n is accepted when bit 2 of the octet 256 bits
 *               later is 1 (NFAS, against imitation) and a FAS follows 512 bits
 *               after the first (G.706 4.1.2). Frame n+2 is the first aligned frame.
 *               A rejected candidate restarts the search in frame n+2, at the bit
 *               after the candidate's position, so that a pattern the payload
 *               repeats every two frames cannot hold the search for ever.
 *      aligned  every even frame must carry the FAS; after 3 consecutive incorrect
 *               FAS (G.706 4.1.1) alignment is lost and the search starts again one
 *               bit after the last of them. The A bit of each NFAS is the RAI.
 *   3. writes the output frame of that frame time.
 *   An aligned frame that starts in raw frame time k (at bit offset 0-255 in it) is
 *   written out in frame time k + 1: a constant delay of one frame time, 257 to 512
 *   bits from its first bit to the end of its output frame, which is the least
 *   that works for every offset. The frames wait in a small FIFO indexed by output
 *   frame time. A frame for a place already taken (overflow) or for a time already
 *   written (underflow) is counted as a slip; neither happens while the input and
 *   output frame times are the same clock, as here. What does happen is a bit slip
 *   on the line: when alignment is regained with the frame phase moved across a
 *   frame-time boundary (offset 255 -> 0 or 0 -> 255), one output frame time more
 *   or less passes than the far end sent frames: one frame repeated or lost against
 *   the far end's frame clock. That counts as a slip when the lost alignment had
 *   lasted 16 frames or more (a false alignment tells nothing of the far end's
 *   clock) and no LOS or AIS came between.
 *
 *   The Sa bits (Sa4..Sa8) are sent as set with cb_e1_tx_set_sa (all 1 by default) and
 *   reported by cb_e1_rx_sa once the same five bits came in 3 NFAS in a row (a change
 *   seen three times counts: a single errored NFAS does not).
 *
 *   Limits: no Sa-bit message protocols (the Sa4 data link, Sa6 codes) and the TS16 CAS
 *   multiframe is its own module (cas.h);
 *   the optional loss rule on 3 NFAS with bit 2 = 0 (G.706 4.1.1) is not used
 *   (they are only counted). LOS is decided on the digital bits (2048 zeros, ETS
 *   300 233); the 10-255 pulse-period window of G.775 belongs to the line
 *   interface. The FAS checks run once a whole frame has arrived.
 */
#ifndef CALLBOX_E1_H
#define CALLBOX_E1_H

#include <stdint.h>

/* Defects, as booleans (0/1), read with cb_e1_rx_status. */
typedef struct {
	int los;                /* loss of signal (no ones) */
	int ais;                /* alarm indication signal (unframed all ones); 0 during LOS */
	int lof;                /* not aligned and not LOS */
	int rai;                /* A bit = 1 in the last NFAS, while aligned */
	int aligned;            /* frame alignment held */
	int lomf;               /* CRC-4 on, frame aligned, no CRC-4 multiframe alignment */
	int far_no_crc4;        /* no CRC-4 multiframe found for 400 ms: a non-CRC far end (G.706 Annex B) */
} cb_e1_status_t;

/* Counters since creation or cb_e1_rx_reset_counters. */
typedef struct {
	uint64_t frames;        /* aligned frames received */
	uint64_t fas_errors;    /* incorrect FAS words while aligned (including the one that loses it) */
	uint64_t nfas_errors;   /* NFAS with bit 2 = 0 while aligned */
	uint64_t realignments;  /* alignment gained again after it was lost */
	uint64_t slips;         /* frames lost or repeated against the far end's frame clock */
	uint64_t los_events;    /* LOS raised */
	uint64_t ais_events;    /* AIS raised */
	uint64_t crc4_errors;   /* sub-multiframes whose CRC-4 did not match */
	uint64_t ebit_errors;   /* E bits received as 0 (the far end saw CRC-4 errors) */
	uint64_t crc4_blocks;   /* sub-multiframes checked */
	uint64_t mf_realignments; /* CRC-4 multiframe alignment gained */
} cb_e1_counters_t;

typedef struct cb_e1_tx_s cb_e1_tx_t;
typedef struct cb_e1_rx_s cb_e1_rx_t;

/* Framer; NULL when out of memory. */
cb_e1_tx_t *cb_e1_tx_new(void);
void cb_e1_tx_free(cb_e1_tx_t *t);
/* The A bit (RAI) sent in every following NFAS. */
void cb_e1_tx_set_rai(cb_e1_tx_t *t, int on);
/* CRC-4 multiframe on transmit: MFAS, C bits of the previous sub-multiframe, E bits. */
void cb_e1_tx_set_crc4(cb_e1_tx_t *t, int on);
/* Report n received errored sub-multiframes: each sends one E bit as 0 (at most 48 pending: two 20 ms blocks of reports and some). */
void cb_e1_tx_report_crc_errors(cb_e1_tx_t *t, int n);
/* G.706 Annex B: towards a far end without CRC-4, keep the multiframe, send every E bit as 0. */
void cb_e1_tx_set_ebits_zero(cb_e1_tx_t *t, int on);
/* Sa4..Sa8 sent in every following NFAS: 0..31, Sa4 the most significant of the five bits
 * (default 31: unused Sa bits are 1); CB_LINE_EINVAL otherwise. */
int cb_e1_tx_set_sa(cb_e1_tx_t *t, int sa);
/* Copy nframes frames (32 octets each) from in to out (in == out allowed), writing
 * TS0; returns nframes or CB_LINE_EINVAL. */
int cb_e1_tx_frame(cb_e1_tx_t *t, const uint8_t *in, uint8_t *out, int nframes);

/* Deframer; NULL when out of memory. */
cb_e1_rx_t *cb_e1_rx_new(void);
void cb_e1_rx_free(cb_e1_rx_t *r);
/* Consume nframes * 32 octets of raw bits, write exactly nframes frames to out
 * (in != out); returns nframes or CB_LINE_EINVAL. Any nframes >= 0 is accepted. */
int cb_e1_rx_deframe(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes);
/* The same, and starts[j] = the stream bit (counted from the first bit ever given) where
 * output frame j started, or -1 for an all-ones frame written while not aligned. */
int cb_e1_rx_deframe_at(cb_e1_rx_t *r, const uint8_t *raw, uint8_t *out, int nframes, int64_t *starts);
void cb_e1_rx_status(const cb_e1_rx_t *r, cb_e1_status_t *st);
void cb_e1_rx_counters(const cb_e1_rx_t *r, cb_e1_counters_t *c);
void cb_e1_rx_reset_counters(cb_e1_rx_t *r);
/* Received Sa4..Sa8 (0..31, Sa4 the most significant) once the same value came in 3 NFAS in
 * a row; -1 before that or while not aligned. */
int cb_e1_rx_sa(const cb_e1_rx_t *r);
/* CRC-4 on receive, by mode:
 *   CB_E1_CRC4_OFF    basic frame alignment only;
 *   CB_E1_CRC4_STRICT the multiframe must be found: without two MFAS 2 ms (or a multiple)
 *                     apart within 8 ms of frame alignment the FAS is taken as spurious and
 *                     the frame search starts again just after it (G.706 4.2), for ever;
 *   CB_E1_CRC4_AUTO   the same for 400 ms; then the far end is taken as non-CRC-4 (Annex B:
 *                     basic alignment kept, far_no_crc4 set, the multiframe still looked for).
 * Returns 0 or CB_LINE_EINVAL. */
#define CB_E1_CRC4_OFF 0
#define CB_E1_CRC4_STRICT 1
#define CB_E1_CRC4_AUTO 2
int cb_e1_rx_set_crc4_mode(cb_e1_rx_t *r, int mode);
/* CRC-4 multiframe on receive: alignment (G.706 4.2), CRC-4 check, E bits, 915/1000 rule;
 * on = CB_E1_CRC4_AUTO. */
void cb_e1_rx_set_crc4(cb_e1_rx_t *r, int on);
/* CRC-4 errors since the last call (to send back as E bits). */
int cb_e1_rx_take_crc_errors(cb_e1_rx_t *r);

/* The 30 bearer timeslots (1-15, 17-31) of n frames <-> a payload stream of n x 30
 * octets, in transmission order (what a framed BERT runs over). */
void cb_e1_payload_insert(uint8_t *frames, const uint8_t *payload, int n);
void cb_e1_payload_extract(const uint8_t *frames, uint8_t *payload, int n);

#endif
