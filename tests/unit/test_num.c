/* num: the one reading of a CSV number, and decval's agreement with it. */
#include <string.h>

#include "decval.h"
#include "num.h"
#include "tap.h"

static void
takes(const char *s, double want)
{
	double v = -12345;

	ok(num_parse(s, strlen(s), &v) == 0 && v == want, "\"%s\" is %g", s,
	    want);
}

/* refused by num_parse with status, and by decval_parse alike */
static void
refuses(const char *s, int status)
{
	double v = 0;
	struct decval d;

	ok(num_parse(s, strlen(s), &v) == status, "\"%s\" refused: %s", s,
	    num_error(status));
	ok(decval_parse(s, strlen(s), &d) == status, "decval refuses \"%s\" "
	    "alike", s);
}

int
main(void)
{
	char longnum[300];

	takes("0", 0);
	takes("-0.5", -0.5);
	takes("+3.25", 3.25);
	takes(".5", 0.5);
	takes("5.", 5);
	takes("1e3", 1000);
	takes("2.5E-3", 0.0025);
	takes("1e308", 1e308);
	takes("0e-400", 0);     /* zero written small is still zero */
	refuses("", NUM_SYNTAX);
	refuses(".", NUM_SYNTAX);
	refuses("-", NUM_SYNTAX);
	refuses("0x10", NUM_SYNTAX);    /* strtod: 16 */
	refuses(" 5", NUM_SYNTAX);      /* strtod: 5 */
	refuses("5 ", NUM_SYNTAX);
	refuses("inf", NUM_SYNTAX);
	refuses("-nan", NUM_SYNTAX);
	refuses("1e", NUM_SYNTAX);
	refuses("1e+", NUM_SYNTAX);
	refuses("1.2.3", NUM_SYNTAX);
	refuses("1,5", NUM_SYNTAX);     /* a decimal comma is not ours */
	refuses("1e400", NUM_RANGE);
	refuses("-1e400", NUM_RANGE);
	refuses("1e-400", NUM_RANGE);   /* strtod: 0 */
	refuses("1e-310", NUM_RANGE);   /* below the normal doubles */
	/* longer than any buffer on the stack */
	memset(longnum, '1', sizeof longnum - 1);
	longnum[sizeof longnum - 1] = '\0';
	longnum[1] = '.';
	takes(longnum, 1.1111111111111112);
	ok(num_is_decimal("12", 1), "the length bounds the text");
	return tap_done();
}
