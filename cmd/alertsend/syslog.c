/*
 * The syslog channel: one message per alert, as severe as the alert
 * (critical LOG_CRIT, warning LOG_WARNING, info LOG_INFO; a resolved one
 * LOG_NOTICE), to the local syslog socket or a remote collector.
 *
 *   target   [FACILITY][@DEST]: FACILITY is user, daemon (the default),
 *            local0 ... local7; DEST a Unix datagram socket (a path, by
 *            default /dev/log) or HOST:PORT for UDP (the control room's
 *            collector; port 514 if left out)
 *
 * syslog(3) is not used because it can only reach /dev/log and hides
 * failures; here a missing socket is an error to retry. The message is
 * RFC 3164's, as syslog(3) writes it (with the host name when it leaves
 * the machine). UDP cannot tell whether it arrived: sent is all it says.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alertsend.h"

#define SYSLOG_MAX 1024         /* RFC 3164's longest message */

static const struct { const char *name; int code; } facilities[] = {
	{ "user", 1 }, { "daemon", 3 }, { "local0", 16 }, { "local1", 17 },
	{ "local2", 18 }, { "local3", 19 }, { "local4", 20 },
	{ "local5", 21 }, { "local6", 22 }, { "local7", 23 } };

/* The facility's code, or -1; *dest is what follows '@' or NULL. */
static int
parse_target(const char *target, const char **dest)
{
	const char *at = strchr(target, '@');
	size_t len = at != NULL ? (size_t)(at - target) : strlen(target);

	*dest = at != NULL && at[1] != '\0' ? at + 1 : NULL;
	if (len == 0)
		return 3;
	for (size_t i = 0; i < sizeof facilities / sizeof *facilities; i++)
		if (strlen(facilities[i].name) == len &&
		    strncmp(target, facilities[i].name, len) == 0)
			return facilities[i].code;
	return -1;
}

int
syslog_target_ok(const char *target)
{
	const char *dest;

	return parse_target(target, &dest) >= 0;
}

static int
severity_level(const struct event *e)
{
	if (strcmp(e->f[F_STATE], "resolved") == 0)
		return 5;
	if (strcmp(e->f[F_SEVERITY], "critical") == 0)
		return 2;
	return strcmp(e->f[F_SEVERITY], "warning") == 0 ? 4 : 6;
}

/* A socket connected to dest: a path, or HOST[:PORT] over UDP. */
static int
open_dest(const char *dest, char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char host[256], *colon;
	int fd, rc;

	if (dest == NULL || dest[0] == '/') {
		dest = dest != NULL ? dest : "/dev/log";
		if (strlen(dest) >= sizeof un.sun_path) {
			snprintf(err, errsz, "%s: a socket path is at most %zu "
			    "bytes", dest, sizeof un.sun_path - 1);
			return -1;
		}
		memcpy(un.sun_path, dest, strlen(dest) + 1);
		if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&un, sizeof un) < 0) {
			snprintf(err, errsz, "%s: %s", dest, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	snprintf(host, sizeof host, "%s", dest);
	colon = strrchr(host, ':');
	if (colon != NULL)
		*colon = '\0';
	if ((rc = getaddrinfo(host, colon != NULL ? colon + 1 : "514", &hints,
	    &ai)) != 0) {
		snprintf(err, errsz, "%s: %s", dest, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, errsz, "%s: %s", dest, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* "<PRI>Mmm dd hh:mm:ss [HOST ]alertsend[PID]: TEXT", on one line. */
static size_t
format_message(char *buf, int pri, int remote, const struct event *e)
{
	char stamp[32], host[256] = "";
	time_t now = time(NULL);
	struct tm tm;
	int len;

	strftime(stamp, sizeof stamp, "%b %e %T", localtime_r(&now, &tm));
	if (remote && gethostname(host, sizeof host - 1) == 0)
		strcat(host, " ");
	len = snprintf(buf, SYSLOG_MAX + 1, "<%d>%s %salertsend[%ld]: [%s] %s"
	    " %s %s: %s", pri, stamp, host, (long)getpid(), e->f[F_SEVERITY],
	    e->f[F_ALERT], e->f[F_STATE], e->f[F_KEY], e->f[F_MESSAGE]);
	if (len < SYSLOG_MAX && (*e->f[F_VALUE] != '\0' ||
	    *e->f[F_LIMIT] != '\0'))
		len += snprintf(buf + len, (size_t)(SYSLOG_MAX + 1 - len),
		    " (value %s, limit %s)", e->f[F_VALUE], e->f[F_LIMIT]);
	if (len > SYSLOG_MAX)
		len = SYSLOG_MAX;
	for (int i = 0; i < len; i++)   /* one line: no record breaks */
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	return (size_t)len;
}

int
send_syslog(const struct subscriber_info *s, const struct event *ev, int n,
    char *err, size_t errsz)
{
	const char *dest;
	int facility = parse_target(s->target, &dest), fd;
	char buf[SYSLOG_MAX + 1];

	if (facility < 0) {
		snprintf(err, errsz, "%s: not a syslog target", s->target);
		return SEND_FAILED;
	}
	if ((fd = open_dest(dest, err, errsz)) < 0)
		return SEND_RETRY;
	for (int i = 0; i < n; i++) {
		size_t len = format_message(buf, facility * 8 +
		    severity_level(&ev[i]), dest != NULL && dest[0] != '/',
		    &ev[i]);
		if (send(fd, buf, len, MSG_NOSIGNAL) < 0) {
			snprintf(err, errsz, "%s: %s", dest != NULL ? dest :
			    "/dev/log", strerror(errno));
			close(fd);
			return SEND_RETRY;
		}
	}
	close(fd);
	return SEND_OK;
}
