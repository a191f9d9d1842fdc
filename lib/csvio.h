/*
 * csvio: RFC 4180 CSV in and out, on libcsv.
 *
 * Reading is one record at a time, so memory stays flat whatever the size
 * of the input. The first record is the header; columns are found by name.
 * Every record must have as many fields as the header. Fields are
 * NUL-terminated copies owned by the reader and valid until the next
 * csvin_read(). A field containing a NUL byte is an error: downstream code
 * treats fields as C strings and must not see a shortened one.
 *
 * Errors name the input and the line where the record began:
 *   "stdin: line 12: column "dx": not a number: "abc""
 * The reader keeps that text; callers print it with their program's name.
 */
#ifndef CSVIO_H
#define CSVIO_H

#include <stddef.h>
#include <stdio.h>

#include "tstime.h"

/* Longest field or record accepted, so hostile input cannot exhaust memory. */
#define CSVIN_MAX_RECORD (64u << 20)

struct csv_in;

/* name is borrowed and must outlive the reader. Never returns NULL. */
struct csv_in *csvin_new(FILE *fp, const char *name);
void csvin_free(struct csv_in *r);

/* Read the header line; 0, or -1 with csvin_error() set. */
int csvin_header(struct csv_in *r);
/* Next record: 1 read, 0 end of input, -1 error (csvin_error()). */
int csvin_read(struct csv_in *r);

/*
 * Parse on a second thread from here on (call after csvin_header()), so
 * the caller's work per record overlaps with parsing. csvin_read() and
 * the rest work as before; csvin_free() stops the thread. The thread
 * blocks every signal: they stay with the caller's threads.
 */
void csvin_background(struct csv_in *r);
/* With a background reader: wait at most timeout_ms (-1: no limit) for
 * the next record or the end of input; 1 when csvin_read() will not
 * block, 0 on timeout. Without one it returns 1 at once. */
int csvin_wait(struct csv_in *r, int timeout_ms);

/* Header: number of columns, their names (borrowed), lookup (-1 if none). */
size_t csvin_ncols(const struct csv_in *r);
const char *csvin_colname(const struct csv_in *r, size_t col);
int csvin_col(const struct csv_in *r, const char *name);

/* Current record: field text (borrowed) and its length in bytes. */
const char *csvin_field(const struct csv_in *r, size_t col);
size_t csvin_field_len(const struct csv_in *r, size_t col);

/* The current record's field as a finite number or timestamp; 0, or -1
 * with csvin_error() naming line, column and text. */
int csvin_double(struct csv_in *r, size_t col, double *out);

const char *csvin_name(const struct csv_in *r);
long csvin_line(const struct csv_in *r);        /* line of current record */
const char *csvin_error(const struct csv_in *r);
/* Set the error "NAME: line N: column "C": REASON: "TEXT""; returns -1. */
int csvin_field_error(struct csv_in *r, size_t col, const char *reason);

/*
 * Writing: fields are quoted only when they must be (a comma, a quote or a
 * line break inside). Write errors are left on the FILE for the caller to
 * check when it flushes (cli_check_write()).
 */
struct csv_out {
	FILE *fp;        /* borrowed */
	int nfields;     /* fields written on the current line */
};

void csvout_init(struct csv_out *w, FILE *fp);
void csvout_field(struct csv_out *w, const char *s, size_t len);
void csvout_str(struct csv_out *w, const char *s);
/* Fixed decimals, never in the locale's style; "-0" is written as "0". */
void csvout_double(struct csv_out *w, double v, int decimals);
void csvout_long(struct csv_out *w, long long v);
/* A time as Unix seconds, or RFC 3339 if iso is set (a program's --iso). */
void csvout_time(struct csv_out *w, ts_us t, int iso);
void csvout_end(struct csv_out *w);
/* A whole line of NUL-terminated fields. */
void csvout_row(struct csv_out *w, size_t n, const char *const *fields);
/* The reader's current record, every field as read: how a program passes
 * on the columns it does not know. Ends the line only if end is set. */
void csvout_record(struct csv_out *w, const struct csv_in *r, int end);
/* The reader's header, for a program that passes rows on. */
void csvout_header(struct csv_out *w, const struct csv_in *r, int end);

#endif
