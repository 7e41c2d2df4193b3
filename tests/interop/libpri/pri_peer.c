/*
 * A test peer around Debian's libpri: one PRI D-channel on a SOCK_SEQPACKET socket (one
 * Q.921 frame per message, no flags or FCS), driven by commands on stdin, reporting what
 * libpri tells it as JSON lines on stdout. Test-only code of the CallBox project.
 *
 *   pri_peer FD network|cpe
 *   commands: call CALLED CALLING CHAN | answer ID | proceeding ID CHAN | hangup ID CAUSE
 *             | reset CHAN | quit
 */
#include <errno.h>
#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_CALLS 64
static q931_call *calls[MAX_CALLS];

static int call_id(q931_call *c)
{
	for (int i = 1; i < MAX_CALLS; i++)
		if (calls[i] == c)
			return i;
	for (int i = 1; i < MAX_CALLS; i++)
		if (!calls[i]) {
			calls[i] = c;
			return i;
		}
	return 0;
}

/* libpri reads and writes frames with two FCS octets after them; the socket carries none */
static int rd(struct pri *pri, void *buf, int len)
{
	int n = (int)read(pri_fd(pri), buf, (size_t)len - 2);
	if (n <= 0)
		return n;
	memset((char *)buf + n, 0, 2);
	return n + 2;
}

static int wr(struct pri *pri, void *buf, int len)
{
	int n = (int)write(pri_fd(pri), buf, (size_t)len - 2);
	return n < 0 ? n : len;
}

static void esc(const char *s, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; s[i] && j + 2 < cap; i++)
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			out[j++] = s[i];
	out[j] = 0;
}

static void report(struct pri *pri, pri_event *e)
{
	char a[300], b[300];
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP: printf("{\"ev\":\"dchan_up\"}\n"); break;
	case PRI_EVENT_DCHAN_DOWN: printf("{\"ev\":\"dchan_down\"}\n"); break;
	case PRI_EVENT_RING:
		esc(e->ring.callednum, a, sizeof(a));
		esc(e->ring.callingnum, b, sizeof(b));
		printf("{\"ev\":\"ring\",\"id\":%d,\"chan\":%d,\"called\":\"%s\",\"calling\":\"%s\",\"complete\":%d}\n",
		       call_id(e->ring.call), e->ring.channel & 0xff, a, b, e->ring.complete);
		break;
	case PRI_EVENT_PROCEEDING:
		printf("{\"ev\":\"proceeding\",\"id\":%d,\"chan\":%d}\n", call_id(e->proceeding.call),
		       e->proceeding.channel & 0xff);
		break;
	case PRI_EVENT_RINGING: printf("{\"ev\":\"ringing\",\"id\":%d}\n", call_id(e->ringing.call)); break;
	case PRI_EVENT_ANSWER:
		printf("{\"ev\":\"answer\",\"id\":%d,\"chan\":%d}\n", call_id(e->answer.call), e->answer.channel & 0xff);
		break;
	case PRI_EVENT_HANGUP_REQ:                 /* DISCONNECT from the peer: go on clearing */
		printf("{\"ev\":\"hangup_req\",\"id\":%d,\"cause\":%d}\n", call_id(e->hangup.call), e->hangup.cause);
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		printf("{\"ev\":\"hangup\",\"id\":%d,\"cause\":%d}\n", call_id(e->hangup.call), e->hangup.cause);
		calls[call_id(e->hangup.call)] = NULL;
		break;
	case PRI_EVENT_HANGUP_ACK:
		printf("{\"ev\":\"hangup_ack\",\"id\":%d,\"cause\":%d}\n", call_id(e->hangup.call), e->hangup.cause);
		calls[call_id(e->hangup.call)] = NULL;
		break;
	case PRI_EVENT_RESTART_ACK: printf("{\"ev\":\"restart_ack\",\"chan\":%d}\n", e->restartack.channel & 0xff); break;
	case PRI_EVENT_RESTART: printf("{\"ev\":\"restart\",\"chan\":%d}\n", e->restart.channel); break;
	case PRI_EVENT_CONNECT_ACK: printf("{\"ev\":\"connect_ack\",\"id\":%d}\n", call_id(e->connect_ack.call)); break;
	default: printf("{\"ev\":\"other\",\"code\":%d}\n", e->e); break;
	}
	fflush(stdout);
}

static void command(struct pri *pri, char *line)
{
	char called[64], calling[64];
	int id, chan, cause;
	if (sscanf(line, "call %63s %63s %d", called, calling, &chan) == 3) {
		q931_call *c = pri_new_call(pri);
		struct pri_sr *sr = pri_sr_new();
		pri_sr_set_channel(sr, chan, 1, 0);
		pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
		pri_sr_set_called(sr, called, PRI_UNKNOWN, 1);
		pri_sr_set_caller(sr, calling, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
		int rc = pri_setup(pri, c, sr);
		pri_sr_free(sr);
		printf("{\"ev\":\"placed\",\"id\":%d,\"rc\":%d}\n", call_id(c), rc);
	} else if (sscanf(line, "ocall %63s %63s %d", called, calling, &chan) == 3) {
		/* overlap: SETUP without Sending Complete; more digits follow with "digit" */
		q931_call *c = pri_new_call(pri);
		struct pri_sr *sr = pri_sr_new();
		pri_sr_set_channel(sr, chan, 1, 0);
		pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
		pri_sr_set_called(sr, called, PRI_UNKNOWN, 0);
		pri_sr_set_caller(sr, calling, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
		int rc = pri_setup(pri, c, sr);
		pri_sr_free(sr);
		printf("{\"ev\":\"placed\",\"id\":%d,\"rc\":%d}\n", call_id(c), rc);
	} else if (sscanf(line, "digit %d %63s", &id, called) == 2 && id > 0 && id < MAX_CALLS && calls[id]) {
		int rc = 0;
		for (char *d = called; *d; d++)
			rc |= pri_information(pri, calls[id], *d);
		printf("{\"ev\":\"digits_sent\",\"rc\":%d}\n", rc);
	} else if (sscanf(line, "answer %d", &id) == 1 && id > 0 && id < MAX_CALLS && calls[id]) {
		printf("{\"ev\":\"answered\",\"rc\":%d}\n", pri_answer(pri, calls[id], 0, 1));
	} else if (sscanf(line, "proceeding %d %d", &id, &chan) == 2 && id > 0 && id < MAX_CALLS && calls[id]) {
		printf("{\"ev\":\"proceeded\",\"rc\":%d}\n", pri_proceeding(pri, calls[id], chan, 0));
	} else if (sscanf(line, "hangup %d %d", &id, &cause) == 2 && id > 0 && id < MAX_CALLS && calls[id]) {
		printf("{\"ev\":\"hungup\",\"rc\":%d}\n", pri_hangup(pri, calls[id], cause));
	} else if (sscanf(line, "reset %d", &chan) == 1) {
		printf("{\"ev\":\"reset_sent\",\"rc\":%d}\n", pri_reset(pri, chan));
	} else if (strncmp(line, "quit", 4) == 0) {
		exit(0);
	} else {
		printf("{\"ev\":\"bad_command\"}\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pri_peer FD network|cpe\n");
		return 2;
	}
	int fd = atoi(argv[1]);
	int node = strcmp(argv[2], "network") == 0 ? PRI_NETWORK : PRI_CPE;
	struct pri *pri = pri_new_cb(fd, node, PRI_SWITCH_EUROISDN_E1, rd, wr, NULL);
	if (!pri) {
		fprintf(stderr, "pri_new_cb failed\n");
		return 1;
	}
	if (getenv("PRI_PEER_DEBUG"))
		pri_set_debug(pri, PRI_DEBUG_Q931_DUMP | PRI_DEBUG_Q931_STATE | PRI_DEBUG_Q921_STATE);
	pri_set_overlapdial(pri, 1);    /* "ocall" then sends SETUP without Sending Complete */
	char line[256];
	size_t used = 0;
	for (;;) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		FD_SET(0, &r);
		struct timeval *next = pri_schedule_next(pri), tv = {1, 0}, now;
		if (next) {
			gettimeofday(&now, NULL);
			long us = (next->tv_sec - now.tv_sec) * 1000000L + (next->tv_usec - now.tv_usec);
			if (us < 0)
				us = 0;
			tv.tv_sec = us / 1000000L;
			tv.tv_usec = us % 1000000L;
		}
		int n = select(fd + 1, &r, NULL, NULL, &tv);
		if (n < 0 && errno != EINTR)
			return 1;
		pri_event *e = NULL;
		if (n > 0 && FD_ISSET(fd, &r))
			e = pri_check_event(pri);
		else if (n == 0)
			e = pri_schedule_run(pri);
		if (e)
			report(pri, e);
		if (n > 0 && FD_ISSET(0, &r)) {
			ssize_t k = read(0, line + used, sizeof(line) - 1 - used);
			if (k <= 0)
				return 0;
			used += (size_t)k;
			line[used] = 0;
			char *nl;
			while ((nl = strchr(line, '\n'))) {
				*nl = 0;
				command(pri, line);
				memmove(line, nl + 1, used - (size_t)(nl + 1 - line) + 1);
				used -= (size_t)(nl + 1 - line);
			}
		}
	}
}
