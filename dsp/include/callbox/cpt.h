/*
 * Call-progress tone presence bank: is a channel's national tone on or off in this block?
 *
 * What does it do
 *   For each channel, watches one frequency or a pair (CN 450 Hz, ITU/EU 425 Hz, US 350+440,
 *   440+480, 480+620 Hz) and says, for every block it is given, whether the tone is there.
 *   The cadence (dial, ringback, busy, congestion) is judged from these on/off decisions by
 *   callbox.dsp.CadenceClassifier.
 *
 * How does it work
 *   Goertzel filters at the watched frequencies over each call's block (normally 160 samples);
 *   the tone is present when each watched frequency is at least -40 dBm0 and together they
 *   carry at least 60 % of the block's energy (speech and music rarely do for long).
 */
#ifndef CALLBOX_CPT_H
#define CALLBOX_CPT_H

#include <stdint.h>

#include "callbox/dsp.h"

typedef struct cb_cpt_bank_s cb_cpt_bank_t;

int cb_cpt_bank_new(cb_cpt_bank_t **bank, int nchan);
void cb_cpt_bank_free(cb_cpt_bank_t *bank);
/* Watch f1 (and f2, 0 for none) on a channel; f1 0 stops watching. CB_EINVAL / CB_ECHAN. */
int cb_cpt_watch(cb_cpt_bank_t *bank, int chan, double f1, double f2);
/* One block of nsamples per channel (channel-major): present[chan] = 1 tone on, 0 off. */
int cb_cpt_process(cb_cpt_bank_t *bank, const int16_t *in, int nsamples, uint8_t *present);

#endif
