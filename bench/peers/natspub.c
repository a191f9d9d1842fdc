/*
 * natspub: the engine's own limit for bench/run's bus rows. Lines of
 * stdin (a CSV file, header skipped) grouped N to a message, as bus pub
 * groups records, and published to a JetStream subject with libnats'
 * asynchronous publish, as many in flight as bus pub lets be; no CSV
 * parsing, no message id, no header: what is left is the server's and
 * the client library's work.
 *
 *   natspub URL SUBJECT N < file.csv
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	char *line = NULL, *buf = NULL;
	size_t cap = 0, len = 0, bufcap = 0;
	ssize_t n;
	int per, in = 0, first = 1;

	if (argc != 4)
		return 2;
	per = atoi(argv[3]);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 256;
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
		fprintf(stderr, "natspub: %s\n", nats_GetLastError(NULL));
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (first) {
			first = 0;
			continue;
		}
		if (len + (size_t)n > bufcap) {
			bufcap = (len + (size_t)n) * 2;
			if ((buf = realloc(buf, bufcap)) == NULL) {
				perror("natspub");
				return 1;
			}
		}
		memcpy(buf + len, line, (size_t)n);
		len += (size_t)n;
		if (++in == per) {
			while (js_PublishAsync(js, argv[2], buf, (int)len, NULL) !=
			    NATS_OK)
				;
			len = 0;
			in = 0;
		}
	}
	if (len > 0)
		while (js_PublishAsync(js, argv[2], buf, (int)len, NULL) != NATS_OK)
			;
	js_PublishAsyncComplete(js, NULL);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(line);
	free(buf);
	return 0;
}
