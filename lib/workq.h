/*
 * workq: jobs run on N threads, their results handed back in the order
 * the jobs were given. For per-series work whose output must read as if
 * one thread had done it (trend forecast --threads).
 *
 *   struct workq *q = workq_new(threads, run, emit, arg);
 *   workq_put(q, job);     (any number; blocks while 2N are in hand)
 *   workq_end(q);          (emits the rest, frees q)
 *
 * run(job, arg) is called on a worker thread (or the caller's, with one
 * thread); emit(job, arg) always on the caller's, in order, and owns the
 * job from then on.
 */
#ifndef WORKQ_H
#define WORKQ_H

struct workq;

struct workq *workq_new(int threads, void (*run)(void *, void *),
    void (*emit)(void *, void *), void *arg);
void workq_put(struct workq *q, void *job);
void workq_end(struct workq *q);

#endif
