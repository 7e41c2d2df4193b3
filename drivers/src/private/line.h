/* Private layouts of the line library. */
#ifndef CALLBOX_LINE_PRIVATE_H
#define CALLBOX_LINE_PRIVATE_H
#include "callbox/line.h"

#define E1_FRAME 32
#define E1_FRAME_BITS 256
#define RX_BUF (E1_FRAME * 1024)      /* raw bytes kept for the search: 1024 frames */
#define FIFO_FRAMES 2048              /* aligned frames waiting to be handed out */

struct cb_e1_tx_s {
	uint64_t count;         /* frames sent: even = FAS, odd = NFAS; count % 16 = multiframe index */
	int rai;                /* A bit to send */
	int crc4;               /* CRC-4 multiframe on */
	uint8_t crc;            /* CRC-4 of the sub-multiframe being sent */
	uint8_t prev_crc;       /* CRC-4 of the previous sub-multiframe (sent as C bits) */
	int ebit_pending;       /* errored sub-multiframes still to report as E = 0 */
	int ebits_zero;         /* Annex B: the far end has no CRC-4, every E bit is 0 */
};

struct cb_e1_rx_s {
	uint8_t buf[RX_BUF + 2];/* unconsumed raw bits, MSB first */
	size_t nbytes;          /* valid bytes in buf */
	size_t pos;             /* bit position of the next frame start (aligned) or search point */
	int aligned;            /* 1 while in frame alignment */
	int ever_aligned;       /* alignment was gained at least once */
	int nfas_next;          /* 1 when the next frame should carry NFAS */
	int bad_fas;            /* consecutive bad FAS words */
	int rai;                /* A bit of the last NFAS */
	int los, ais;           /* defects */
	uint32_t zero_run;      /* consecutive zero bits seen */
	int ais_periods;        /* consecutive 512-bit periods with < 3 zeros */
	int ok_periods;         /* consecutive periods with >= 3 zeros */
	uint32_t period_bits, period_zeros; /* the 512-bit period being counted */
	uint8_t fifo[FIFO_FRAMES][E1_FRAME]; /* aligned frames */
	int fifo_head, fifo_count;
	int primed;             /* handing frames out (the FIFO had its reserve) */
	cb_e1_counters_t ctr;   /* counters */
	/* CRC-4 multiframe */
	int crc4;               /* CRC-4 checking on */
	int mf_aligned;         /* multiframe alignment held */
	int mfi;                /* index (0-15) of the next frame in the multiframe */
	uint8_t mfas_hist;      /* bit 1 of the last six NFAS frames */
	uint64_t nfas_seen;     /* NFAS frames since basic alignment */
	uint64_t last_mfas_at;  /* frame count where the MFAS last completed (0: never) */
	uint64_t since_align;   /* frames since basic alignment (Annex B timer) */
	int far_no_crc4;        /* no multiframe for 400 ms */
	uint8_t crc, prev_crc;  /* CRC of the sub-multiframe being received / the one before */
	uint8_t cbits;          /* C bits collected in this sub-multiframe */
	int window_blocks, window_errors; /* the 915-of-1000 window */
	int crc_errors_new;     /* for cb_e1_rx_take_crc_errors */
	int have_prev;          /* 1: prev_crc is a whole sub-multiframe's CRC; -1: the current one is partial */
	uint64_t mfas_errors;   /* MFAS bits received wrong while multiframe aligned */
};

typedef struct {
	/* receive */
	int hunting;            /* waiting for a flag */
	int ones;               /* consecutive ones received */
	int nbits;              /* bits collected for the current frame (incl. flag prefix) */
	uint8_t *frame;         /* collected data bits, LSB first */
	/* transmit */
	uint8_t *q;             /* queue: TXQ frames of max_frame + 2 octets */
	int *qlen;              /* lengths of queued frames (with FCS) */
	int qhead, qcount;
	int tx_state;           /* 0 flag, 1 data */
	int tx_bit;             /* next bit of the flag / data */
	int tx_ones;            /* ones sent in a row (for stuffing) */
	cb_hdlc_counters_t ctr;
} cb_hdlc_chan_t;

#define HDLC_TXQ 32

struct cb_hdlc_bank_s {
	int nchan;              /* channels */
	int max_frame;          /* largest frame without FCS */
	cb_hdlc_chan_t *ch;     /* per-channel state */
};
#endif
