/* trend: what its commands share. See trend(1). */
#ifndef TREND_H
#define TREND_H

/* trend drift: alert events for slow growth and new peaks (drift.c). */
int cmd_drift(int argc, char **argv);

#endif
