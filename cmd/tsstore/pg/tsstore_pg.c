/*
 * tsstore_pg: the chunk decoder inside PostgreSQL, so that the raw points
 * of a control-room store are readable in SQL without tsstore (psql,
 * Grafana). tsstore init loads it from this library's path:
 *
 *   CREATE FUNCTION tsstore.chunk_points(bytea)
 *     RETURNS TABLE(time timestamptz, value double precision)
 *     AS 'PATH/tsstore_pg.so', 'tsstore_chunk_points'
 *     LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
 *
 * The decoder is lib/tschunk.c itself, compiled into this library: one
 * format, one reader. A damaged chunk is an error, never altered values.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "decval.h"
#include "tschunk.h"

PG_MODULE_MAGIC;

/* Unix microseconds to PostgreSQL's (from 2000-01-01). */
#define PG_EPOCH_US \
	((int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

PG_FUNCTION_INFO_V1(tsstore_chunk_points);

Datum
tsstore_chunk_points(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	bytea *data = PG_GETARG_BYTEA_PP(0);
	const unsigned char *buf = (const unsigned char *)VARDATA_ANY(data);
	size_t len = VARSIZE_ANY_EXHDR(data);
	long n = tschunk_count(buf, len);
	struct tspoint *p;

	InitMaterializedSRF(fcinfo, 0);
	if (n < 1)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
		    errmsg("tsstore: a chunk is damaged (see tsstore check)")));
	p = palloc((size_t)n * sizeof *p);
	if (tschunk_decode(buf, len, p, (size_t)n) != n)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
		    errmsg("tsstore: a chunk is damaged (see tsstore check)")));
	for (long i = 0; i < n; i++) {
		Datum values[2];
		bool nulls[2] = { false, false };

		values[0] = TimestampTzGetDatum(p[i].t - PG_EPOCH_US);
		values[1] = Float8GetDatum(decval_double(p[i].v));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
		    nulls);
	}
	pfree(p);
	return (Datum)0;
}
