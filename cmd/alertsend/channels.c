/*
 * channels: how a notification leaves. Every channel gets the same
 * notification, shaped like Prometheus Alertmanager's webhook payload
 * (version, status, receiver, groupLabels, commonLabels, alerts[] with
 * labels, annotations, startsAt, endsAt), so receivers built for it work.
 *
 *   file     one JSON line per notification appended to the target file
 *   webhook  an HTTP POST of the JSON to the target URL (libcurl): TLS
 *            verified, a timeout; 2xx is delivered, 5xx and network
 *            errors are retried, 4xx is refused for good
 *   exec     the target split at spaces is a program and its arguments
 *            (no shell, so nothing in an event can become a command): the
 *            JSON on its standard input, the first alert's fields in
 *            ALERT_* variables; exit status 0 is delivered
 *   email    a plain-text mail to the target address through --sendmail
 *            (default "/usr/sbin/sendmail -t -i"), headers free of line breaks
 *   syslog   a line per alert to a syslog socket or collector (syslog.c)
 *
 * A secret (a webhook's bearer token) is read from a file or the
 * environment when it is used, never stored, never written to a log.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alertsend.h"
#include "tstime.h"
#include "xalloc.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"     /* Alertmanager's "not set" */

static json_t *
alert_json(const struct event *e)
{
	char when[TS_BUFSZ], start[TS_BUFSZ];
	int resolved = strcmp(e->f[F_STATE], "resolved") == 0;

	ts_format_rfc3339(e->ts, when);
	if (resolved && e->started != 0)
		ts_format_rfc3339(e->started, start);
	else
		snprintf(start, sizeof start, "%s", resolved ? ZERO_TIME :
		    when);
	return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s},"
	    " s:s, s:s}",
	    "status", e->f[F_STATE],
	    "labels", "alertname", e->f[F_ALERT], "severity",
	    e->f[F_SEVERITY], "key", e->f[F_KEY],
	    "annotations", "message", e->f[F_MESSAGE], "value",
	    e->f[F_VALUE], "limit", e->f[F_LIMIT],
	    "startsAt", start, "endsAt", resolved ? when : ZERO_TIME);
}

/* The members of the objects named member in every alert that all of
 * them share: Alertmanager's commonLabels and commonAnnotations. */
static json_t *
common(json_t *alerts, const char *member)
{
	json_t *first = json_object_get(json_array_get(alerts, 0), member);
	json_t *out = json_deep_copy(first), *a, *v;
	const char *name;
	size_t i;
	void *tmp;

	json_array_foreach(alerts, i, a) {
		json_t *obj = json_object_get(a, member);
		json_object_foreach_safe(out, tmp, name, v)
			if (!json_equal(v, json_object_get(obj, name)))
				json_object_del(out, name);
	}
	return out;
}

/*
 * The payload: firing if any alert in it fires. Every event for a
 * subscriber goes into one group (Alertmanager's group_by: []), so
 * groupLabels is empty and groupKey names the receiver.
 */
static char *
notification_json(const char *sub, const struct event *ev, int n)
{
	json_t *alerts = json_array(), *root;
	const char *status = "resolved";
	char *text, key[512];

	for (int i = 0; i < n; i++) {
		json_array_append_new(alerts, alert_json(&ev[i]));
		if (strcmp(ev[i].f[F_STATE], "firing") == 0)
			status = "firing";
	}
	snprintf(key, sizeof key, "{}:{receiver=\"%s\"}", sub);
	root = json_pack("{s:s, s:s, s:s, s:s, s:i, s:{}, s:o, s:o, s:s,"
	    " s:o}",
	    "version", "4", "groupKey", key, "status", status,
	    "receiver", sub, "truncatedAlerts", 0, "groupLabels",
	    "commonLabels", common(alerts, "labels"),
	    "commonAnnotations", common(alerts, "annotations"),
	    "externalURL", "", "alerts", alerts);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

/* The length of fd's file up to its last newline: a line a crash cut
 * short is not a line (its delivery was never marked sent and comes
 * again). */
static off_t
last_good_line(int fd)
{
	char buf[4096];
	struct stat sb;
	off_t end;

	if (fstat(fd, &sb) < 0)
		return -1;
	for (end = sb.st_size; end > 0;) {
		size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
		ssize_t got = pread(fd, buf, n, end - (off_t)n);
		if (got != (ssize_t)n)
			return -1;
		for (size_t i = n; i > 0; i--)
			if (buf[i - 1] == '\n')
				return end - (off_t)n + (off_t)i;
		end -= (off_t)n;
	}
	return 0;
}

/* Append json and a newline, all of it and synced, or nothing: a write
 * cut short (a full disk) is taken back to the last whole line, so the
 * JSON lines stay lines and the delivery is tried again; the error is
 * the one that stopped it. */
static int
send_file(const char *target, const char *json, char *err, size_t errsz)
{
	int fd = open(target, O_RDWR | O_APPEND | O_CREAT, 0644), saved;
	size_t len = strlen(json), done = 0;
	char *line;
	off_t good;

	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", target, strerror(errno));
		return -1;
	}
	if ((good = last_good_line(fd)) < 0 || ftruncate(fd, good) < 0) {
		snprintf(err, errsz, "%s: %s", target, strerror(errno));
		close(fd);
		return -1;
	}
	line = xmalloc(len + 1);
	memcpy(line, json, len);
	line[len++] = '\n';
	while (done < len) {
		ssize_t n = write(fd, line + done, len - done);
		if (n == 0)
			errno = ENOSPC; /* no errno of its own */
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(line);
	if (done == len && fsync(fd) == 0) {
		close(fd);
		return 0;
	}
	saved = errno;          /* write()'s or fsync()'s */
	if (ftruncate(fd, good) == 0)
		fsync(fd);
	close(fd);
	snprintf(err, errsz, "%s: %s", target, strerror(saved));
	return -1;
}


/* Does s hold a control character (CR, LF, TAB, DEL ...)? A header
 * value must not. */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The secret a subscriber names, or NULL with the reason in err. */
static char *
read_secret(const char *ref, char *err, size_t errsz)
{
	char buf[4096];
	FILE *fp;
	size_t n;
	const char *v;

	if (strncmp(ref, "env:", 4) == 0) {
		if ((v = getenv(ref + 4)) == NULL || *v == '\0') {
			snprintf(err, errsz, "secret: $%s is not set", ref + 4);
			return NULL;
		}
		if (has_control(v)) {
			snprintf(err, errsz, "secret: $%s holds a control "
			    "character (a line break would start another HTTP "
			    "header): refused", ref + 4);
			return NULL;
		}
		return strdup(v);
	}
	if (strncmp(ref, "file:", 5) != 0 || (fp = fopen(ref + 5, "r")) ==
	    NULL) {
		snprintf(err, errsz, "secret: %s: %s", ref + 5,
		    strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';     /* the first line */
	if (has_control(buf)) {
		snprintf(err, errsz, "secret: %s holds a control character: "
		    "refused", ref + 5);
		explicit_bzero(buf, sizeof buf);
		return NULL;
	}
	v = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return (char *)v;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
send_webhook(const struct subscriber_info *s, const char *json, char *err,
    size_t errsz)
{
	char ebuf[CURL_ERROR_SIZE] = "", *secret = NULL, *auth = NULL;
	struct curl_slist *headers = NULL;
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (c == NULL) {
		snprintf(err, errsz, "cannot start libcurl");
		return SEND_RETRY;
	}
	if (*s->secret != '\0') {
		if ((secret = read_secret(s->secret, err, errsz)) == NULL) {
			curl_easy_cleanup(c);
			return SEND_RETRY;
		}
		if (asprintf(&auth, "Authorization: Bearer %s", secret) < 0)
			auth = NULL;
		free(secret);
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	if (auth != NULL)
		headers = curl_slist_append(headers, auth);
	curl_easy_setopt(c, CURLOPT_URL, s->target);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(policy.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	if (auth != NULL) {
		memset(auth, 0, strlen(auth));  /* no copy left behind */
		free(auth);
	}
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(err, errsz, "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
		return SEND_RETRY;
	}
	if (status >= 200 && status < 300)
		return SEND_OK;
	snprintf(err, errsz, "HTTP %ld", status);
	return status >= 400 && status < 500 ? SEND_FAILED : SEND_RETRY;
}

#define EXEC_MAX_ARGS 32

/* The child: stdin from the pipe, the fields in the environment. */
static void __attribute__((noreturn))
exec_child(int in, char **argv, const struct subscriber_info *s,
    const struct event *e, int n)
{
	static const char *const names[EVENT_COLS] = { NULL, "ALERT_NAME",
		"ALERT_SEVERITY", "ALERT_STATE", "ALERT_KEY", "ALERT_VALUE",
		"ALERT_LIMIT", "ALERT_MESSAGE" };
	char count[32];

	dup2(in, STDIN_FILENO);
	close(in);
	signal(SIGPIPE, SIG_DFL);
	snprintf(count, sizeof count, "%d", n);
	setenv("ALERTSEND_RECEIVER", s->name, 1);
	setenv("ALERTSEND_COUNT", count, 1);
	for (int i = 1; i < EVENT_COLS; i++)
		setenv(names[i], e->f[i], 1);
	execvp(argv[0], argv);
	_exit(127);
}

/* Feed input to the child pid on fd (a program that does not read it is
 * its own business) and wait for it, at most --timeout in all: a hung
 * program (or sendmail) must not hold up every other subscriber. 0 with
 * its status, or -1 when the time ran out and its process group was
 * killed. */
static int
finish_child(pid_t pid, int fd, const char *input, size_t len, int *status)
{
	double deadline = ts_elapsed() + policy.timeout;
	size_t done = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (done < len && ts_elapsed() < deadline) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t w;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((w = write(fd, input + done, len - done)) < 0)
			break;          /* EPIPE: it stopped reading */
		done += (size_t)w;
	}
	close(fd);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			*status = 1 << 8;       /* cannot be: as a failure */
			return 0;
		}
		if (ts_elapsed() >= deadline)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* Run cmdline (split at spaces, no shell) with input on its stdin. */
static int
run_program(const char *cmdline, const char *input,
    const struct subscriber_info *s, const struct event *ev, int n,
    char *err, size_t errsz)
{
	char *cmd = strdup(cmdline), *argv[EXEC_MAX_ARGS + 1], *save;
	int argc = 0, fd[2], status;
	size_t len = strlen(input);
	pid_t pid;

	for (char *t = strtok_r(cmd, " \t", &save); t != NULL &&
	    argc < EXEC_MAX_ARGS; t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0 || pipe(fd) < 0 || (pid = fork()) < 0) {
		snprintf(err, errsz, "%s: cannot run: %s", cmdline,
		    argc == 0 ? "empty" : strerror(errno));
		free(cmd);
		return SEND_FAILED;
	}
	if (pid == 0) {
		close(fd[1]);
		setpgid(0, 0);  /* its own group: a timeout kills all of it */
		exec_child(fd[0], argv, s, &ev[0], n);
	}
	setpgid(pid, pid);
	close(fd[0]);
	free(cmd);
	if (finish_child(pid, fd[1], input, len, &status) < 0) {
		snprintf(err, errsz, "%s: no answer in %g s: killed", cmdline,
		    policy.timeout);
		return SEND_RETRY;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SEND_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(err, errsz, "%s: not found or not runnable",
		    cmdline);
		return SEND_FAILED;
	}
	if (WIFEXITED(status))
		snprintf(err, errsz, "%s: exit status %d", cmdline,
		    WEXITSTATUS(status));
	else
		snprintf(err, errsz, "%s: killed by signal %d", cmdline,
		    WTERMSIG(status));
	return SEND_RETRY;
}

static int
send_exec(const struct subscriber_info *s, const struct event *ev, int n,
    const char *json, char *err, size_t errsz)
{
	char *input;
	int rc;

	if (asprintf(&input, "%s\n", json) < 0) {
		snprintf(err, errsz, "out of memory");
		return SEND_RETRY;
	}
	rc = run_program(s->target, input, s, ev, n, err, errsz);
	free(input);
	return rc;
}

/* Header text with no line breaks, so an event cannot add headers. */
static void
put_header(FILE *fp, const char *name, const char *value)
{
	fprintf(fp, "%s: ", name);
	for (const char *p = value; *p != '\0'; p++)
		fputc(*p == '\r' || *p == '\n' ? ' ' : *p, fp);
	fputc('\n', fp);
}

/* A plain-text mail through --sendmail (sendmail -t reads To: itself). */
static int
send_email(const struct subscriber_info *s, const struct event *ev, int n,
    char *err, size_t errsz)
{
	char *msg = NULL, subject[512], when[TS_BUFSZ];
	size_t len = 0;
	FILE *fp = open_memstream(&msg, &len);
	int firing = 0, rc;

	if (fp == NULL) {
		snprintf(err, errsz, "out of memory");
		return SEND_RETRY;
	}
	for (int i = 0; i < n; i++)
		firing += strcmp(ev[i].f[F_STATE], "firing") == 0;
	snprintf(subject, sizeof subject, "[%s] %s %s (%s)%s",
	    ev[0].f[F_SEVERITY], ev[0].f[F_ALERT], ev[0].f[F_STATE],
	    ev[0].f[F_KEY], n > 1 ? " and more" : "");
	put_header(fp, "To", s->target);
	put_header(fp, "Subject", subject);
	put_header(fp, "Content-Type", "text/plain; charset=utf-8");
	put_header(fp, "X-Alertsend-Receiver", s->name);
	fprintf(fp, "\n%d alert%s, %d firing:\n\n", n, n == 1 ? "" : "s",
	    firing);
	for (int i = 0; i < n; i++)
		fprintf(fp, "%s  %s %s %s %s: %s (value %s, limit %s)\n",
		    ts_format_rfc3339(ev[i].ts, when), ev[i].f[F_STATE],
		    ev[i].f[F_SEVERITY], ev[i].f[F_ALERT], ev[i].f[F_KEY],
		    ev[i].f[F_MESSAGE], ev[i].f[F_VALUE], ev[i].f[F_LIMIT]);
	fclose(fp);
	rc = run_program(policy.sendmail, msg, s, ev, n, err, errsz);
	free(msg);
	return rc;
}

int
channel_known(const char *channel)
{
	return strcmp(channel, "file") == 0 ||
	    strcmp(channel, "webhook") == 0 || strcmp(channel, "exec") == 0 ||
	    strcmp(channel, "email") == 0 || strcmp(channel, "syslog") == 0;
}

int
channel_send(const struct subscriber_info *s, const struct event *ev, int n,
    char *err, size_t errsz)
{
	char *json = notification_json(s->name, ev, n);
	int rc;

	if (json == NULL) {
		snprintf(err, errsz, "cannot build the notification");
		return SEND_RETRY;
	}
	if (strcmp(s->channel, "file") == 0)
		rc = send_file(s->target, json, err, errsz) < 0 ? SEND_RETRY :
		    SEND_OK;
	else if (strcmp(s->channel, "webhook") == 0)
		rc = send_webhook(s, json, err, errsz);
	else if (strcmp(s->channel, "exec") == 0)
		rc = send_exec(s, ev, n, json, err, errsz);
	else if (strcmp(s->channel, "email") == 0)
		rc = send_email(s, ev, n, err, errsz);
	else if (strcmp(s->channel, "syslog") == 0)
		rc = send_syslog(s, ev, n, err, errsz);
	else {
		snprintf(err, errsz, "unknown channel \"%s\"", s->channel);
		rc = SEND_FAILED;
	}
	free(json);
	return rc;
}
