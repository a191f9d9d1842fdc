#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "workq.h"
#include "xalloc.h"

/* Jobs in hand sit in a ring: [head, next) running or done, waiting to
 * be emitted in order; [next, tail) waiting for a worker. */
struct workq {
	void (*run)(void *, void *);
	void (*emit)(void *, void *);
	void *arg;
	int nthreads, quit;
	pthread_t *threads;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	unsigned long head, next, tail, cap;
	void **job;
	char *finished;
};

static void *
worker(void *p)
{
	struct workq *q = p;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		unsigned long i;
		while (q->next == q->tail && !q->quit)
			pthread_cond_wait(&q->work, &q->lock);
		if (q->next == q->tail)
			break;
		i = q->next++ % q->cap;
		pthread_mutex_unlock(&q->lock);
		q->run(q->job[i], q->arg);
		pthread_mutex_lock(&q->lock);
		q->finished[i] = 1;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct workq *
workq_new(int threads, void (*run)(void *, void *),
    void (*emit)(void *, void *), void *arg)
{
	struct workq *q = xcalloc(1, sizeof *q);

	q->run = run;
	q->emit = emit;
	q->arg = arg;
	q->nthreads = threads > 1 ? threads : 0;
	if (q->nthreads == 0)
		return q;
	q->cap = 2 * (unsigned long)threads;
	q->job = xcalloc(q->cap, sizeof *q->job);
	q->finished = xcalloc(q->cap, 1);
	q->threads = xcalloc((size_t)threads, sizeof *q->threads);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	for (int t = 0; t < threads; t++)
		if ((errno = pthread_create(&q->threads[t], NULL, worker, q)) != 0)
			err(1, "pthread_create");
	return q;
}

/* Emit the oldest job, waiting for it if wait (lock held; it is let go
 * while emit runs); 0 if it was not done and wait was not asked. */
static int
emit_oldest(struct workq *q, int wait)
{
	unsigned long i = q->head % q->cap;
	void *job;

	while (!q->finished[i]) {
		if (!wait)
			return 0;
		pthread_cond_wait(&q->done, &q->lock);
	}
	job = q->job[i];
	q->finished[i] = 0;
	q->head++;
	pthread_mutex_unlock(&q->lock);
	q->emit(job, q->arg);
	pthread_mutex_lock(&q->lock);
	return 1;
}

void
workq_put(struct workq *q, void *job)
{
	if (q->nthreads == 0) {
		q->run(job, q->arg);
		q->emit(job, q->arg);
		return;
	}
	pthread_mutex_lock(&q->lock);
	/* what is done goes out now, so a pipe downstream is not kept
	 * waiting for a slow series behind it */
	while (q->head != q->tail && emit_oldest(q, q->tail - q->head == q->cap))
		;
	q->job[q->tail++ % q->cap] = job;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->lock);
}

void
workq_end(struct workq *q)
{
	if (q->nthreads > 0) {
		pthread_mutex_lock(&q->lock);
		while (q->head != q->tail)
			emit_oldest(q, 1);
		q->quit = 1;
		pthread_cond_broadcast(&q->work);
		pthread_mutex_unlock(&q->lock);
		for (int t = 0; t < q->nthreads; t++)
			pthread_join(q->threads[t], NULL);
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->work);
		pthread_cond_destroy(&q->done);
	}
	free(q->threads);
	free(q->job);
	free(q->finished);
	free(q);
}
