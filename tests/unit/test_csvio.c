#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "csvio.h"
#include "tap.h"

/* A reader over the bytes s[0..n). */
static struct csv_in *
reader(const char *s, size_t n, FILE **fp)
{
	*fp = fmemopen((void *)s, n, "r");
	return csvin_new(*fp, "in.csv");
}

static void
done(struct csv_in *r, FILE *fp)
{
	csvin_free(r);
	fclose(fp);
}

/* Header then records; the last read must fail with msg in the error. */
static void
fails_with(const char *s, size_t n, const char *msg, const char *what)
{
	FILE *fp;
	struct csv_in *r = reader(s, n, &fp);
	int rc = csvin_header(r);

	while (rc >= 0 && (rc = csvin_read(r)) > 0)
		;
	ok(rc < 0, "%s: fails", what);
	has_str(csvin_error(r), msg, "%s: message", what);
	done(r, fp);
}

static void
test_basic(void)
{
	const char s[] = "ts,src,value\n1,cam1,0.5\n2,\"a,b\",\"say \"\"hi\"\"\"\n";
	FILE *fp;
	struct csv_in *r = reader(s, sizeof s - 1, &fp);

	ok(csvin_header(r) == 0, "header reads");
	ok(csvin_ncols(r) == 3, "three columns");
	ok(csvin_col(r, "value") == 2 && csvin_col(r, "nope") == -1,
	    "columns by name");
	ok(csvin_read(r) == 1, "first record");
	is_str(csvin_field(r, 1), "cam1", "plain field");
	ok(csvin_line(r) == 2, "first record on line 2");
	ok(csvin_read(r) == 1, "second record");
	is_str(csvin_field(r, 1), "a,b", "quoted comma");
	is_str(csvin_field(r, 2), "say \"hi\"", "doubled quotes");
	ok(csvin_field_len(r, 2) == 8, "field length");
	ok(csvin_read(r) == 0, "end of input");
	done(r, fp);
}

static void
test_line_numbers(void)
{
	const char s[] = "a,b\r\n1,\"x\ny\"\r\n\r\n3,4\r\n5,zz";
	FILE *fp;
	struct csv_in *r = reader(s, sizeof s - 1, &fp);
	double v;

	csvin_header(r);
	ok(csvin_read(r) == 1 && csvin_line(r) == 2, "CRLF record line 2");
	is_str(csvin_field(r, 1), "x\ny", "quoted newline kept");
	ok(csvin_read(r) == 1 && csvin_line(r) == 5,
	    "a blank line is skipped and counted");
	ok(csvin_double(r, 1, &v) == 0 && v == 4, "number");
	ok(csvin_read(r) == 1 && csvin_line(r) == 6,
	    "last record without a line end");
	ok(csvin_double(r, 1, &v) < 0, "not a number");
	is_str(csvin_error(r), "in.csv: line 6: column \"b\": not a number: "
	    "\"zz\"", "number error names line, column and text");
	done(r, fp);
}

static void
test_bom_and_spaces(void)
{
	const char s[] = "\xef\xbb\xbfts, v \n 1 ,2\n";
	FILE *fp;
	struct csv_in *r = reader(s, sizeof s - 1, &fp);

	ok(csvin_header(r) == 0 && csvin_col(r, "ts") == 0,
	    "byte order mark is not part of the first name");
	ok(csvin_col(r, " v ") == 1, "spaces are part of a name");
	csvin_read(r);
	is_str(csvin_field(r, 0), " 1 ", "spaces are kept in fields");
	done(r, fp);
}

static void
test_big_field(void)
{
	size_t big = 10u << 20;
	size_t n = 4 + big + 3;
	char *s = malloc(n);
	FILE *fp;
	struct csv_in *r;

	memcpy(s, "a,b\n", 4);
	memset(s + 4, 'x', big);
	memcpy(s + 4 + big, ",1\n", 3);
	r = reader(s, n, &fp);
	csvin_header(r);
	ok(csvin_read(r) == 1 && csvin_field_len(r, 0) == big,
	    "a 10 MB field is read whole");
	ok(csvin_read(r) == 0, "then end of input");
	done(r, fp);
	free(s);
}

static void
test_too_big_field(void)
{
	size_t big = CSVIN_MAX_RECORD + 10;
	size_t n = 5 + big;
	char *s = malloc(n);

	memcpy(s, "a,b\n\"", 5);
	memset(s + 5, 'x', big);
	fails_with(s, n, "line 2: field longer than", "a 64 MB quoted field");
	memcpy(s, "a,b\nx", 5);
	fails_with(s, n, "line 2: ", "a 64 MB unquoted field");
	free(s);
}

static void
test_hostile(void)
{
	static const char nul[] = "a,b\n1,x\0y\n";

	fails_with("", 0, "in.csv: empty input: no header line", "empty");
	fails_with("a,b\n1,\"open\n2,3\n", 16,
	    "line 2: unterminated quoted field", "unterminated quote");
	fails_with(nul, sizeof nul - 1, "line 2: field 2 contains a NUL byte",
	    "embedded NUL");
	fails_with("a,b\n1,2,3\n", 10, "line 2: 3 fields, but the header has 2",
	    "extra field");
	fails_with("a,b\n1,2\n3\n", 10, "line 3: 1 fields, but the header has 2",
	    "missing field");
	fails_with("a,b\n1,x\"y\n", 10, "line 2: malformed quoting",
	    "quote inside a field");
	fails_with("a,b\n1,\"x\"y\n", 11, "line 2: malformed quoting",
	    "text after a closing quote");
	fails_with("a,a\n", 4, "duplicate column \"a\"", "duplicate name");
	fails_with("a,,c\n", 5, "column 2 has no name", "empty name");
	fails_with("a,b\r1,2\n", 8, "carriage return without a line feed",
	    "bare CR");
}

static void
test_writer(void)
{
	char *out = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&out, &n);
	struct csv_out w;
	const char *row[] = { "x", "" };

	csvout_init(&w, fp);
	csvout_str(&w, "plain");
	csvout_str(&w, "a,b");
	csvout_str(&w, "say \"hi\"");
	csvout_str(&w, "two\nlines");
	csvout_end(&w);
	csvout_double(&w, -0.0001, 3);
	csvout_double(&w, 2.5, 2);
	csvout_long(&w, -42);
	csvout_end(&w);
	csvout_row(&w, 2, row);
	fclose(fp);
	is_str(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
	    "0.000,2.50,-42\nx,\n", "quoting only where needed");
	free(out);
}

/* A row read and written again is the same text, quotes and all, with a
 * column added at the end as a program passing rows on would. */
static void
test_carry_through(void)
{
	const char in[] = "ts,odd col,note\n1,\"x,y\",\"say \"\"hi\"\"\"\n2,,\n";
	FILE *fp;
	struct csv_in *r = reader(in, sizeof in - 1, &fp);
	char *out = NULL;
	size_t n = 0;
	FILE *ofp = open_memstream(&out, &n);
	struct csv_out w;

	csvout_init(&w, ofp);
	csvin_header(r);
	csvout_header(&w, r, 0);
	csvout_str(&w, "added");
	csvout_end(&w);
	while (csvin_read(r) > 0) {
		csvout_record(&w, r, 0);
		csvout_str(&w, "z");
		csvout_end(&w);
	}
	fclose(ofp);
	is_str(out, "ts,odd col,note,added\n1,\"x,y\",\"say \"\"hi\"\"\",z\n"
	    "2,,,z\n", "unknown columns carried through");
	free(out);
	done(r, fp);
}

/* The fast formatter writes what printf("%.*f") writes. */
static void
test_double_format(void)
{
	static const double vals[] = { 0, 1, -1, 0.5, 2.5, -2.5, 0.125,
		1234.56785, -0.00004, 0.00005, 999.99995, 1e15, -1e15, 123456789.123,
		0.1, 1e-7, 3.14159265358979, 1764000000.008333, 9e15 };
	int bad = 0;

	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
		for (int d = 0; d <= 9; d++) {
			char *out = NULL, want[400];
			size_t n = 0;
			FILE *fp = open_memstream(&out, &n);
			struct csv_out w;

			csvout_init(&w, fp);
			csvout_double(&w, vals[i], d);
			fclose(fp);
			snprintf(want, sizeof want, "%.*f", d, vals[i]);
			/* printf keeps the sign of a negative zero; we drop it */
			if (want[0] == '-' && strspn(want + 1, "0.") ==
			    strlen(want) - 1)
				memmove(want, want + 1, strlen(want));
			if (strcmp(out, want) != 0) {
				printf("#   %.17g with %d decimals: got %s, "
				    "want %s\n", vals[i], d, out, want);
				bad++;
			}
			free(out);
		}
	ok(bad == 0, "fixed decimals match printf's (%d differ)", bad);

	/* And 200000 pseudo-random values of every size and sign. */
	uint64_t x = 12345;
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		char *out = NULL, want[400];
		size_t n = 0;
		FILE *fp = open_memstream(&out, &n);
		struct csv_out w;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		double v = ((double)(x >> 11) / 9007199254740992.0 - 0.5) *
		    pow(10, (int)(x % 13) - 3);
		int d = (int)((x >> 7) % 10);

		csvout_init(&w, fp);
		csvout_double(&w, v, d);
		fclose(fp);
		snprintf(want, sizeof want, "%.*f", d, v);
		if (want[0] == '-' && strspn(want + 1, "0.") == strlen(want) - 1)
			memmove(want, want + 1, strlen(want));
		if (strcmp(out, want) != 0 && bad++ < 5)
			printf("#   %.17g with %d decimals: got %s, want %s\n",
			    v, d, out, want);
		free(out);
	}
	ok(bad == 0, "random values match printf's (%d differ)", bad);
}

/* Text of n records "i,i*7,name i" after a header, with a bad record at
 * line bad_line (0: none). */
static char *
many_records(int n, int bad_line, size_t *len)
{
	size_t cap = (size_t)n * 40 + 64, o = 0;
	char *s = malloc(cap);

	o += (size_t)snprintf(s, cap, "a,b,c\n");
	for (int i = 0; i < n; i++) {
		if (i + 2 == bad_line)
			o += (size_t)snprintf(s + o, cap - o, "1,2\n");
		else
			o += (size_t)snprintf(s + o, cap - o,
			    "%d,%d,\"name %d\"\n", i, i * 7, i);
	}
	*len = o;
	return s;
}

/* Read it all; a checksum of the records, and the final csvin_read(). */
static long
read_all(const char *s, size_t n, int background, int *rc, char *err,
    long *lines)
{
	FILE *fp;
	struct csv_in *r = reader(s, n, &fp);
	long sum = 0;

	*lines = 0;
	if (csvin_header(r) == 0) {
		if (background)
			csvin_background(r);
		while ((*rc = csvin_read(r)) > 0) {
			sum += atol(csvin_field(r, 1)) +
			    (long)csvin_field_len(r, 2) + csvin_line(r);
			(*lines)++;
		}
	}
	snprintf(err, 200, "%s", csvin_error(r));
	done(r, fp);
	return sum;
}

static void
test_background_same(void)
{
	size_t n;
	int rc1, rc2;
	char e1[200], e2[200];
	long l1, l2, s1, s2;
	char *s = many_records(20000, 0, &n);

	s1 = read_all(s, n, 0, &rc1, e1, &l1);
	s2 = read_all(s, n, 1, &rc2, e2, &l2);
	ok(l1 == 20000 && l2 == 20000, "background: every record (%ld, %ld)",
	    l1, l2);
	ok(s1 == s2 && rc2 == 0, "background: same fields and lines");
	free(s);

	s = many_records(20000, 15001, &n);
	s1 = read_all(s, n, 0, &rc1, e1, &l1);
	s2 = read_all(s, n, 1, &rc2, e2, &l2);
	ok(rc2 < 0 && l2 == 14999 && s1 == s2,
	    "background: records before a bad one (%ld)", l2);
	is_str(e2, e1, "background: the same error");
	has_str(e2, "line 15001", "background: error names the line");
	free(s);
}

/* A live pipe: records arrive before the writer closes it, and the reader
 * can be freed while its thread waits for more. */
static void
test_background_pipe(void)
{
	int fd[2];
	FILE *fp;
	struct csv_in *r;
	const char text[] = "t,v\n1,2\n3,4\n";

	if (pipe(fd) != 0) {
		ok(0, "pipe");
		return;
	}
	if (write(fd[1], text, sizeof text - 1) != (ssize_t)sizeof text - 1)
		ok(0, "write");
	fp = fdopen(fd[0], "r");
	r = csvin_new(fp, "pipe");
	ok(csvin_header(r) == 0, "pipe: header");
	csvin_background(r);
	ok(csvin_wait(r, 5000) == 1, "pipe: records handed over early");
	ok(csvin_read(r) == 1 && strcmp(csvin_field(r, 1), "2") == 0,
	    "pipe: first record");
	ok(csvin_read(r) == 1 && strcmp(csvin_field(r, 0), "3") == 0,
	    "pipe: second record");
	ok(csvin_wait(r, 50) == 0, "pipe: nothing more yet: timeout");
	csvin_free(r);   /* the thread is blocked in read(): must not hang */
	ok(1, "pipe: freed while the thread waits");
	fclose(fp);
	close(fd[1]);
}

int
main(void)
{
	test_double_format();
	test_carry_through();
	test_basic();
	test_line_numbers();
	test_bom_and_spaces();
	test_big_field();
	test_too_big_field();
	test_hostile();
	test_writer();
	test_background_same();
	test_background_pipe();
	return tap_done();
}
