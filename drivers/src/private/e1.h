/* Private layouts of the E1 framer and deframer (see callbox/e1.h). */
#ifndef CALLBOX_PRIVATE_E1_H
#define CALLBOX_PRIVATE_E1_H

#include "callbox/line.h"

#define E1_FRAME_OCTETS 32      /* G.704 2.3.1: 32 timeslots */
#define E1_FRAME_BITS 256
#define E1_RAW_KEEP 256         /* raw octets kept: the search needs 65 beyond its position, plus a frame time */
#define E1_REF_FRAMES 16        /* an alignment held this long (2 ms) is taken as the far end's frame clock */
#define E1_OUT_RING 4           /* output FIFO places (two are ever in use: this frame time and the next) */

/* Alignment machine states (G.706 4.1). */
enum e1_rx_state {
	E1_SEARCH = 0,          /* looking for a FAS, bit by bit */
	E1_CONFIRM,             /* a FAS candidate: waiting for the NFAS bit 2 and the next FAS */
	E1_ALIGNED,             /* in frame alignment */
};

struct cb_e1_tx_s {
	uint64_t count;         /* frames sent: even = FAS, odd = NFAS; count % 16 = multiframe index */
	int rai;                /* A bit to send */
	int crc4;               /* CRC-4 multiframe on */
	uint8_t crc;            /* CRC-4 of the sub-multiframe being sent */
	uint8_t prev_crc;       /* CRC-4 of the previous sub-multiframe (sent as C bits) */
	int ebit_pending;       /* errored sub-multiframes still to report as E = 0 */
	int ebits_zero;         /* Annex B: the far end has no CRC-4, every E bit is 0 */
	int sa;                 /* Sa4..Sa8 to send, Sa4 the most significant of the five bits */
};

struct cb_e1_rx_s {
	uint8_t raw[E1_RAW_KEEP + 1]; /* raw octets not yet consumed, MSB first (+1: a spare octet for shifted reads) */
	uint64_t raw_base;      /* stream bit number of raw[0]'s MSB (a multiple of 8) */
	size_t raw_len;         /* valid octets in raw */
	uint64_t frame_time;    /* raw frame times consumed so far = output frames written */
	int state;              /* enum e1_rx_state */
	uint64_t pos;           /* stream bit: next search position / the candidate FAS / next aligned frame */
	int nfas_next;          /* aligned: 1 when the next frame carries the NFAS */
	int bad_fas;            /* aligned: incorrect FAS words in a row */
	int rai;                /* A bit of the last NFAS */
	int sa_last;            /* Sa4..Sa8 of the last NFAS */
	int sa_run;             /* NFAS in a row with sa_last */
	int sa;                 /* Sa4..Sa8 seen in SA_PERSIST NFAS in a row; -1 before */
	int ever_aligned;       /* alignment was gained at least once (so the next gain is a re-alignment) */
	uint64_t held;          /* frames since alignment was gained */
	int have_ref;           /* ref_start holds a frame start of the last alignment (held >= E1_REF_FRAMES) */
	uint64_t ref_start;     /* stream bit where a frame of the last alignment started (slip check) */
	int los;                /* loss of signal */
	int ais;                /* alarm indication signal */
	uint32_t zero_run;      /* zero bits in a row, saturating */
	uint32_t period_zeros;  /* zeros in the 512-bit AIS period being counted */
	int ais_periods;        /* consecutive periods with fewer than 3 zeros */
	int ok_periods;         /* consecutive periods with 3 or more zeros */
	uint8_t fifo[E1_OUT_RING][E1_FRAME_OCTETS]; /* aligned frames waiting for their output frame time */
	uint64_t fifo_tag[E1_OUT_RING]; /* output frame time + 1 the place holds a frame for; 0 = empty */
	uint64_t fifo_start[E1_OUT_RING]; /* stream bit where that frame started */
	cb_e1_counters_t ctr;   /* counters */
	/* CRC-4 multiframe (G.704 2.3.3, G.706 4.2, 4.3.2, Annex B) */
	int crc4;               /* CRC-4 checking on */
	int mf_aligned;         /* multiframe alignment held */
	int mfi;                /* index (0-15) of the next frame in the multiframe */
	uint8_t mfas_hist;      /* bit 1 of the last six NFAS frames */
	uint64_t nfas_seen;     /* NFAS frames since basic alignment */
	uint64_t last_mfas_at;  /* since_align value when the MFAS last completed (0: never) */
	uint64_t since_align;   /* frames since basic alignment (Annex B timer) */
	int far_no_crc4;        /* no multiframe for 400 ms */
	uint64_t mf_search;     /* frames searched for the multiframe, across 8 ms re-searches (Annex B) */
	uint8_t crc;            /* CRC-4 of the sub-multiframe being received */
	uint8_t prev_crc;       /* CRC-4 of the previous sub-multiframe */
	uint8_t cbits;          /* C bits collected in this sub-multiframe */
	int window_blocks;      /* sub-multiframes checked in the current 1000-block window */
	int window_errors;      /* of which errored */
	int crc_errors_new;     /* CRC-4 errors not yet taken by cb_e1_rx_take_crc_errors */
	int have_prev;          /* 1: prev_crc is a whole sub-multiframe's CRC; -1: the current one is partial */
	uint64_t mfas_errors;   /* MFAS bits received wrong while multiframe aligned */
};

#endif
