/*
 * sea/queue.h - bounded queues and pipes of items (void pointers).
 *
 * A queue holds up to capacity items.  sea_queue_push waits while it is
 * full and sea_queue_pop while it is empty, each in arrival order: producers
 * are held back by slow consumers (back-pressure) and memory stays bounded.
 *
 * A pipe (tutorial 7.3) is a queue with two ends: one writer, one reader.
 * The reader gets end-of-stream (NULL) once the writer has closed and the
 * buffered items are read; a writer whose reader has gone gets -EPIPE.
 *
 *     sea_pipe *p = sea_pipe_new(16, free);     // free() releases undelivered items
 *     sea_pipe_write(p, item)   ...   sea_pipe_close_writer(p);
 *     sea_pipe_read(p)          ...   v.ptr == NULL: end of stream;  sea_pipe_close_reader(p);
 *
 * Items are owned by the queue from the moment they are pushed or written:
 * if one cannot be delivered (the queue is freed or aborted, the pipe's
 * reader closed), the release function given at creation gets it.
 */
#ifndef SEA_QUEUE_H
#define SEA_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_queue sea_queue;

/* A queue of up to capacity (>= 1) items; release(item) for undelivered ones (may be NULL). NULL if out of memory. */
sea_queue *sea_queue_new(size_t capacity, void (*release)(void *item));
/* Fails every waiter with SEA_EBROKEN ("queue destroyed"), releases the items left, frees q. */
void sea_queue_free(sea_queue *q);

/* Pushes item if there is room and nobody waits to push first; returns whether it did. */
bool sea_queue_try_push(sea_queue *q, void *item);
/* Pops the oldest item into *item if there is one; returns whether it did. */
bool sea_queue_try_pop(sea_queue *q, void **item);
/* Pushes item, waiting for room.  Fails with the abort error (item released) or -ENOMEM. */
sea_future sea_queue_push(sea_queue *q, void *item) SEA_MUST_USE;
/* Pops the oldest item (v.ptr), waiting for one.  Fails with the abort error or -ENOMEM. */
sea_future sea_queue_pop(sea_queue *q) SEA_MUST_USE;
/*
 * Fails every waiting push (their items released) and pop, and every later
 * push and pop on an empty queue, with err (0: SEA_EBROKEN) and static_msg.
 * Items already queued can still be popped.
 */
void sea_queue_abort(sea_queue *q, int err, const char *static_msg);

/* Items queued now, and the most the queue holds. */
size_t sea_queue_size(const sea_queue *q);
size_t sea_queue_capacity(const sea_queue *q);

typedef struct sea_pipe sea_pipe;

/* A pipe buffering up to capacity items; NULL if out of memory. */
sea_pipe *sea_pipe_new(size_t capacity, void (*release)(void *item));
/*
 * Writes item (not NULL: -EINVAL), waiting while the buffer is full.  Fails
 * with -EPIPE once the reader has closed (the item is released), -EINVAL
 * after sea_pipe_close_writer.
 */
sea_future sea_pipe_write(sea_pipe *p, void *item) SEA_MUST_USE;
/*
 * Reads the next item (v.ptr), waiting for one; NULL means end of stream
 * (the writer closed).  Fails with the writer's error if it aborted, or
 * -EINVAL after sea_pipe_close_reader.
 */
sea_future sea_pipe_read(sea_pipe *p) SEA_MUST_USE;
/* The writer is done: the reader gets the buffered items, then end of stream. */
void sea_pipe_close_writer(sea_pipe *p);
/* The writer gives up: reads fail with err (negative) and static_msg once the buffer is empty. */
void sea_pipe_abort_writer(sea_pipe *p, int err, const char *static_msg);
/* The reader is gone: waiting and later writes fail with -EPIPE; buffered items are released. */
void sea_pipe_close_reader(sea_pipe *p);

#ifdef __cplusplus
}
#endif
#endif
