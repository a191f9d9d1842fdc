/*
 * state: thresh's alert state in a file (--state), so that a restart
 * neither fires an open alert again nor forgets it. The file is a CSV,
 * alert,key,state,since,pending_since,pending_rows,last_seen, replaced
 * atomically (written aside, synced, renamed over) so that a crash leaves
 * the old state or the new, never half of one.
 */
#ifndef STATE_H
#define STATE_H

#include "thresh.h"

/* 0 (a missing file is a first run), or -1 after a message. */
int state_load(const char *path, struct rule *rules, int nrules,
    struct track_map *stale);
int state_save(const char *path, struct rule *rules, int nrules,
    struct track_map *stale);

#endif
