/* Private layouts of the HDLC bank (see callbox/hdlc.h). */
#ifndef CALLBOX_PRIVATE_HDLC_H
#define CALLBOX_PRIVATE_HDLC_H

#include "callbox/line.h"

typedef struct {
	/* receive */
	int hunting;            /* 1: waiting for a flag before collecting (start, after an abort or overlong frame) */
	int ones;               /* ones received in a row */
	int nbits;              /* bits collected since the last flag, the next flag's first 7 included */
	uint8_t *frame;         /* collected bits, packed LSB first: max_frame + 4 octets */
	/* transmit */
	uint8_t *q;             /* queue: CB_HDLC_TX_QUEUE slots of max_frame + 2 octets (frame + FCS) */
	int *qlen;              /* octets in each slot, FCS included */
	int qhead;              /* slot being sent or next to send */
	int qcount;             /* slots in use */
	int tx_data;            /* 1: sending the head frame's bits, 0: sending a flag */
	int tx_bit;             /* next bit of the flag (0-7) or of the frame (0 .. 8 * len - 1) */
	int tx_ones;            /* data ones sent in a row (a 0 is stuffed after five) */
	cb_hdlc_counters_t ctr; /* counters */
} cb_hdlc_chan_t;

struct cb_hdlc_bank_s {
	int nchan;              /* channels */
	int max_frame;          /* largest frame without FCS */
	cb_hdlc_chan_t *ch;     /* per-channel state, nchan of them */
};

#endif
