/*
 * fsync: making a write survive a crash or a power cut. A file replaced
 * by rename(2) needs its data synced before the rename and its directory
 * after it, or the new name may point at nothing after a crash.
 */
#ifndef FSYNC_H
#define FSYNC_H

/* fsync(2) the file or directory at path; 0, or -1 with errno set. */
int fsync_path(const char *path);
/* fsync(2) the directory that holds path ("." if it names none). */
int fsync_parent(const char *path);

#endif
