/*
 * callbox line library (callbox._line): what a span needs between the line bits and
 * the 20 ms engine.
 *
 * What does it do
 *   e1.h       E1 framer and deframer: TS0 framing (G.704 2.3), frame alignment on a
 *              raw bitstream (G.706 4.1), CRC-4 multiframe (G.704 2.3.3, G.706 4.2),
 *              LOS / AIS / LOF / RAI defects (G.775) and counters.
 *   t1.h       T1 framer and deframer: SF/D4 and ESF (FPS, CRC-6, FDL), robbed-bit
 *              signalling, yellow alarm, OOF, LOS, AIS (G.704 2.1, T1.403, T1.231).
 *   cas.h      E1 TS16 CAS multiframe: ABCD per channel, MFAS alignment, LOMF, remote MF alarm.
 *   hdlc.h     HDLC framing for the D-channels (Q.921 layer 1: flags, zero-bit
 *              insertion, FCS-16, aborts), a bank of channels per call.
 *   tdm.h      160 frames x 32 octets <-> 32 timeslots x 160 octets.
 *   prbs.h     O.151 test sequences (BERT).
 *   linecode.h AMI, HDB3, B8ZS.
 *
 * How does it work
 *   Every state object is opaque (its layout is in src/private/) and is created with
 *   cb_<module>_new and freed with cb_<module>_free. The caller owns every buffer:
 *   one call handles one block (normally 160 frames = 20 ms) of a span or of every
 *   D-channel at once, and never calls back. Calls that can fail return a count
 *   (>= 0) or one of the negative CB_LINE_E* codes below; cb_line_strerror names it.
 *   The library keeps no mutable globals: two objects never share state.
 *
 *   Bit order everywhere: a raw line bitstream is packed into octets most significant
 *   bit first, so bit 1 of an E1 timeslot (sent first, G.704 2.3.1) is the MSB.
 */
#ifndef CALLBOX_LINE_H
#define CALLBOX_LINE_H

/* Results (an enum, so that the cffi module exports them as lib.CB_LINE_*). */
enum cb_line_result {
	CB_LINE_OK = 0,
	CB_LINE_EINVAL = -1,    /* bad argument (NULL object, negative count) */
	CB_LINE_ENOMEM = -2,    /* allocation failed */
	CB_LINE_EFULL = -3,     /* transmit queue or caller's output buffer full */
};

/* Text for a CB_LINE_* code ("invalid argument"); never NULL. */
const char *cb_line_strerror(int code);

#include "callbox/e1.h"
#include "callbox/t1.h"
#include "callbox/cas.h"
#include "callbox/hdlc.h"
#include "callbox/tdm.h"

#endif
