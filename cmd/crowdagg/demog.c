/*
 * demog: the demographic values classifiers write, mapped to the buckets
 * crowd windows count. Classifiers disagree on spelling (FER+ says
 * "happiness", others "happy"; Adience gives ages as "(25-32)"), so the
 * common spellings are accepted and anything else is counted, not lost,
 * as "other" or "unknown".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crowdagg.h"

const char *const gender_cols[GENDERS] = { "gender_female", "gender_male",
	"gender_unknown" };
const char *const age_cols[AGE_BUCKETS] = { "age_0_15", "age_16_19",
	"age_20s", "age_30s", "age_40s", "age_50s", "age_60plus",
	"age_unknown" };
const char *const emotion_cols[EMOTIONS] = { "emotion_angry",
	"emotion_disgust", "emotion_fear", "emotion_happy", "emotion_neutral",
	"emotion_sad", "emotion_surprise", "emotion_other",
	"emotion_unknown" };

static int
one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcasecmp(s, *names) == 0)
			return 1;
	return 0;
}

int
gender_of(const char *s)
{
	static const char *const female[] = { "female", "f", "woman", "w",
		NULL };
	static const char *const male[] = { "male", "m", "man", NULL };

	if (one_of(s, female))
		return GENDER_FEMALE;
	return one_of(s, male) ? GENDER_MALE : GENDER_UNKNOWN;
}

double
age_of(const char *s)
{
	char *end;
	double lo, hi;

	s += *s == '(' || *s == '[';
	lo = strtod(s, &end);
	if (end == s || lo < 0 || lo > 150)
		return -1;
	if (*end == '-') {
		s = end + 1;
		hi = strtod(s, &end);
		if (end == s || hi < lo || hi > 150)
			return -1;
		lo = (lo + hi) / 2;
	}
	if (*end == ')' || *end == ']')
		end++;
	return *end == '\0' ? lo : -1;
}

int
age_bucket(double years)
{
	if (years < 0)
		return AGE_BUCKETS - 1;
	if (years < 16)
		return 0;
	if (years < 20)
		return 1;
	if (years >= 60)
		return 6;
	return (int)(years / 10);       /* 20s: 2 ... 50s: 5 */
}

int
emotion_of(const char *s)
{
	static const char *const names[][4] = {
		{ "angry", "anger", "mad", NULL },
		{ "disgust", "disgusted", NULL },
		{ "fear", "fearful", "scared", NULL },
		{ "happy", "happiness", "joy", NULL },
		{ "neutral", "calm", NULL },
		{ "sad", "sadness", NULL },
		{ "surprise", "surprised", NULL } };

	if (*s == '\0')
		return EMOTIONS - 1;
	for (int i = 0; i < 7; i++)
		if (one_of(s, names[i]))
			return i;
	return EMOTIONS - 2;
}
