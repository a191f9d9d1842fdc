#include "tap.h"
#include "tstime.h"

static void
parses(const char *s, ts_us want)
{
	ts_us got = 0;
	int rc = ts_parse(s, &got);

	ok(rc == 0 && got == want, "parse \"%s\" = %lld (got %lld, rc %d)", s,
	    (long long)want, (long long)got, rc);
}

static void
rejects(const char *s)
{
	ts_us got;

	ok(ts_parse(s, &got) < 0, "reject \"%s\"", s);
}

static void
unix_round_trip(ts_us t, const char *want)
{
	char buf[TS_BUFSZ];
	ts_us back = 0;

	is_str(ts_format_unix(t, buf), want, "format unix %lld", (long long)t);
	ok(ts_parse(buf, &back) == 0 && back == t, "round trip unix %s", buf);
}

static void
rfc3339_round_trip(ts_us t, const char *want)
{
	char buf[TS_BUFSZ];
	ts_us back = 0;

	is_str(ts_format_rfc3339(t, buf), want, "format rfc3339 %lld",
	    (long long)t);
	ok(ts_parse(buf, &back) == 0 && back == t, "round trip rfc3339 %s",
	    buf);
}

int
main(void)
{
	{
		ts_us w = 0, now = INT64_C(1764000000000000);
		ok(ts_parse_when("-1h", now, &w) == 0 &&
		    w == now - INT64_C(3600000000), "when -1h");
		ok(ts_parse_when("+90m", now, &w) == 0 &&
		    w == now + INT64_C(5400000000), "when +90m");
		ok(ts_parse_when("now", now, &w) == 0 && w == now, "when now");
		ok(ts_parse_when("1764000000", now, &w) == 0 && w == now,
		    "when absolute");
		ok(ts_parse_when("+soon", now, &w) < 0, "when +soon refused");
	}
	parses("1764000000", INT64_C(1764000000000000));
	parses("1764000000.5", INT64_C(1764000000500000));
	parses("1764000000.000001", INT64_C(1764000000000001));
	parses("1764000000.1234565", INT64_C(1764000000123457));
	parses("1764000000.1234564", INT64_C(1764000000123456));
	parses("0", 0);
	parses(".25", 250000);
	parses("-0.5", -500000);
	parses("-3", -3000000);
	parses("+7", 7000000);
	parses("2026-11-24T10:00:00Z", INT64_C(1795514400000000));
	parses("2026-11-24T10:00:00.5Z", INT64_C(1795514400500000));
	parses("2026-11-24t10:00:00.5z", INT64_C(1795514400500000));
	parses("2026-11-24 10:00:00Z", INT64_C(1795514400000000));
	parses("2026-11-24T11:00:00+01:00", INT64_C(1795514400000000));
	parses("2026-11-24T05:30:00-04:30", INT64_C(1795514400000000));
	parses("1970-01-01T00:00:00Z", 0);
	parses("1969-12-31T23:59:59.75Z", -250000);
	parses("2024-02-29T00:00:00Z", INT64_C(1709164800000000));
	parses("2016-12-31T23:59:60Z", INT64_C(1483228800000000));

	rejects("");
	rejects(".");
	rejects("-");
	rejects("1.");
	rejects("1e9");
	rejects("12abc");
	rejects(" 12");
	rejects("12 ");
	rejects("nan");
	rejects("inf");
	rejects("99999999999999999999999");
	rejects("2026-11-24");
	rejects("2026-11-24T10:00:00");          /* no zone: ambiguous */
	rejects("2026-13-01T00:00:00Z");
	rejects("2026-02-29T00:00:00Z");         /* not a leap year */
	rejects("2026-11-24T24:00:00Z");
	rejects("2026-11-24T10:00:00+1:00");
	rejects("2026-11-24T10:00:00.Z");
	rejects("2026-11-24T10:00:00Zjunk");

	/* A length-limited parse must not read past its end. */
	{
		ts_us t = 0;
		ok(ts_parse_n("12345", 2, &t) == 0 && t == 12000000,
		    "parse_n stops at its length");
	}

	unix_round_trip(INT64_C(1764000000000000), "1764000000.000000");
	unix_round_trip(INT64_C(1764000000008333), "1764000000.008333");
	unix_round_trip(-500000, "-0.500000");
	unix_round_trip(-1500000, "-1.500000");
	rfc3339_round_trip(INT64_C(1795514400500000), "2026-11-24T10:00:00.5Z");
	rfc3339_round_trip(INT64_C(1795514400000000), "2026-11-24T10:00:00Z");
	rfc3339_round_trip(INT64_C(1795514400000001),
	    "2026-11-24T10:00:00.000001Z");
	rfc3339_round_trip(-250000, "1969-12-31T23:59:59.75Z");
	rfc3339_round_trip(INT64_C(-62135596800000000), "0001-01-01T00:00:00Z");

	ok(ts_from_sec(0.0083333) == 8333, "from_sec rounds to the microsecond");

	{
		static const struct { const char *s; ts_us us; } good[] = {
			{ "10", 10000000 }, { "2.5s", 2500000 },
			{ "500ms", 500000 }, { "90m", 5400000000 },
			{ "4h", 14400000000 }, { "1d", 86400000000 },
			{ "0", 0 }, { "1.5min", 90000000 },
		};
		static const char *bad[] = { "", "s", "-1s", "10x", "1 s",
			"nan", "inf", "+3" };
		ts_us d;

		for (size_t i = 0; i < sizeof good / sizeof *good; i++)
			ok(ts_parse_duration(good[i].s, &d) == 0 &&
			    d == good[i].us, "duration \"%s\"", good[i].s);
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
			ok(ts_parse_duration(bad[i], &d) < 0,
			    "not a duration: \"%s\"", bad[i]);
	}
	return tap_done();
}
