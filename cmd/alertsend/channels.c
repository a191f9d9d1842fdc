/*
 * channels: how a notification leaves. Every channel gets the same
 * notification, shaped like Prometheus Alertmanager's webhook payload
 * (version, status, receiver, groupLabels, commonLabels, alerts[] with
 * labels, annotations, startsAt, endsAt), so receivers built for it work.
 *
 *   file   one JSON line per notification appended to the target file
 *
 * (webhook, exec, email and syslog are the next to come; see BUGS in
 * alertsend(1).)
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertsend.h"

static json_t *
alert_json(const struct event *e)
{
	char when[TS_BUFSZ];
	int resolved = strcmp(e->f[F_STATE], "resolved") == 0;

	ts_format_rfc3339(e->ts, when);
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s},"
	    " s:s, s:s}",
	    "status", e->f[F_STATE],
	    "labels", "alertname", e->f[F_ALERT], "severity",
	    e->f[F_SEVERITY], "key", e->f[F_KEY],
	    "annotations", "message", e->f[F_MESSAGE], "value",
	    e->f[F_VALUE], "limit", e->f[F_LIMIT],
	    "startsAt", resolved ? "0001-01-01T00:00:00Z" : when,
	    "endsAt", resolved ? when : "0001-01-01T00:00:00Z");
}

/* The payload: firing if any alert in it fires. */
static char *
notification_json(const char *sub, const struct event *ev, int n)
{
	json_t *alerts = json_array(), *root;
	const char *status = "resolved";
	char *text;

	for (int i = 0; i < n; i++) {
		json_array_append_new(alerts, alert_json(&ev[i]));
		if (strcmp(ev[i].f[F_STATE], "firing") == 0)
			status = "firing";
	}
	root = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:o}",
	    "version", "4", "status", status, "receiver", sub,
	    "groupLabels", "commonLabels", "alerts", alerts);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

static int
send_file(const char *target, const char *json, char *err, size_t errsz)
{
	int fd = open(target, O_WRONLY | O_APPEND | O_CREAT, 0644);
	size_t len = strlen(json);
	int rc = 0;

	if (fd < 0 || write(fd, json, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		snprintf(err, errsz, "%s: %s", target, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int
channel_known(const char *channel)
{
	return strcmp(channel, "file") == 0;
}

int
channel_send(const char *sub, const char *channel, const char *target,
    const struct event *ev, int n, char *err, size_t errsz)
{
	char *json = notification_json(sub, ev, n);
	int rc;

	if (json == NULL) {
		snprintf(err, errsz, "cannot build the notification");
		return -1;
	}
	if (strcmp(channel, "file") == 0)
		rc = send_file(target, json, err, errsz);
	else {
		snprintf(err, errsz, "unknown channel \"%s\"", channel);
		rc = -1;
	}
	free(json);
	return rc;
}
