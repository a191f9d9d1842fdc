/*
 * bitflip: damage a file as a failing disk would, for tests.
 *
 *   bitflip FILE BIT...   flip each bit, numbered from 0 (the least
 *                         significant bit of byte 0), in place
 */
#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int fd;

	if (argc < 3)
		errx(2, "usage: bitflip FILE BIT...");
	if ((fd = open(argv[1], O_RDWR)) < 0)
		err(1, "%s", argv[1]);
	for (int i = 2; i < argc; i++) {
		char *end;
		long long bit = strtoll(argv[i], &end, 10);
		unsigned char b;

		if (end == argv[i] || *end != '\0' || bit < 0)
			errx(2, "%s: not a bit number", argv[i]);
		if (pread(fd, &b, 1, bit / 8) != 1)
			errx(1, "%s: no bit %lld (the file is shorter)",
			    argv[1], bit);
		b ^= (unsigned char)(1u << (bit % 8));
		if (pwrite(fd, &b, 1, bit / 8) != 1)
			err(1, "%s", argv[1]);
	}
	if (close(fd) < 0)
		err(1, "%s", argv[1]);
	return 0;
}
