/*
 * clips: keep a camera's recent video, cut the clip around an alert,
 * relay the live stream while one fires. See clips(1).
 */
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avinput.h"
#include "cli.h"
#include "clips.h"

void
usage(int status)
{
	fputs("usage: clips record --src ID --dir DIR [--keep DUR] [--segment DUR]\n"
	    "                    [--max-size BYTES] [--timeout SEC]"
	    " [--retry-for DUR]\n"
	    "                    [--fsync] [--rtsp-transport udp|tcp]"
	    " [--format NAME]\n"
	    "                    [--stats FILE [--stats-every DUR]] INPUT\n"
	    "       clips cut --src ID --dir DIR [--pre DUR] [--post DUR]"
	    " [--out DIR]\n"
	    "                 [--wait DUR] [--pass [--rows FILE]] [file]\n"
	    "       clips forward --src ID --to URL [--to-format NAME]"
	    " [--timeout SEC]\n"
	    "                     [--rtsp-transport udp|tcp] [--format NAME]"
	    " [--events FILE]\n"
	    "                     INPUT\n"
	    "  record   keep INPUT's video, stream-copied, in segments of"
	    " --segment (2s)\n"
	    "           under DIR/ID, the last --keep (10m) of it\n"
	    "  cut      for each firing alert event of ID on stdin, the clip"
	    " from --pre\n"
	    "           (30s) before to --post (30s) after it, as MP4 in --out\n"
	    "           (DIR/ID/clips);"
	    " a row ts,src,alert,key,clip,start,end,bytes,sha256\n"
	    "           for each\n"
	    "           (--pass: the events go on, naming their clips; the"
	    " rows to --rows)\n"
	    "  forward  relay INPUT to URL while an alert of ID fires\n",
	    status == 0 ? stdout : stderr);
	if (status != 0)
		exit(status);
	fputs("\n"
	    "  --src ID          the camera's source id\n"
	    "  --dir DIR         the buffer: segments in DIR/ID\n"
	    "  --segment DUR     a segment's length at least (default 2s)\n"
	    "  --keep DUR        how much video to keep (default 10m)\n"
	    "  --max-size BYTES  the buffer's size at most (k, M, G)\n"
	    "  --timeout SEC     a network read's wait before the camera is lost\n"
	    "                    (default 10)\n"
	    "  --retry-for DUR   how long to keep trying a live camera (default:\n"
	    "                    for ever)\n"
	    "  --fsync           sync each segment before it is renamed into place\n"
	    "  --stats FILE      record's health figures as series CSV to FILE\n"
	    "                    (or fd:N): packets, segments, bytes, lost,\n"
	    "                    buffer_bytes, lag_s\n"
	    "  --stats-every DUR their period (default 10s)\n"
	    "  --rtsp-transport udp|tcp  RTSP over this only (default: UDP, then TCP)\n"
	    "  --format NAME     force the input's demuxer (v4l2, mpegts, ...)\n"
	    "  --pre DUR         a clip's start before the event (default 30s)\n"
	    "  --post DUR        a clip's end after the event (default 30s)\n"
	    "  --out DIR         where clips go (default DIR/ID/clips)\n"
	    "  --wait DUR        how long past the clip's end to wait for the\n"
	    "                    recording (default 30s)\n"
	    "  --pass            pass the events on, naming their clips\n"
	    "  --rows FILE       with --pass: the clips rows appended to FILE\n"
	    "  --to URL          where forward relays to\n"
	    "  --to-format NAME  as what (default: from the URL)\n"
	    "  --events FILE     the events from FILE, not standard input\n"
	    "  -h, --help        this help\n"
	    "      --version     the version\n", stdout);
	exit(cli_finish(0));
}

int
main(int argc, char **argv)
{
	const char *cmd;

	cli_init(argv);
	if (argc < 2)
		cli_usage_error("no command (record, cut, forward)");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
		usage(0);
	if (strcmp(cmd, "--version") == 0)
		cli_version();
	/* libav's own chatter off (the probing decoder's complaints about
	 * a stream joined mid-GOP, ...): what matters is said by us, with
	 * libav's last error when its status says less */
	avin_log_init(0);
	argv[1] = argv[0];
	if (strcmp(cmd, "record") == 0)
		return cli_finish(cmd_record(argc - 1, argv + 1));
	if (strcmp(cmd, "cut") == 0)
		return cli_finish(cmd_cut(argc - 1, argv + 1));
	if (strcmp(cmd, "forward") == 0)
		return cli_finish(cmd_forward(argc - 1, argv + 1));
	cli_usage_error("unknown command: '%s'", cmd);
}
