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
	    " [--format NAME] INPUT\n"
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
	    "           (30s) before to --post (30s) after it, as MP4 in --out"
	    " (DIR/ID/clips);\n"
	    "           a row ts,src,alert,key,clip,start,end,bytes,sha256 for"
	    " each\n"
	    "           (--pass: the events go on, naming their clips; the"
	    " rows to --rows)\n"
	    "  forward  relay INPUT to URL while an alert of ID fires\n",
	    status == 0 ? stdout : stderr);
	exit(status);
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
