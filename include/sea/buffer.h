/*
 * sea/buffer.h - temporary buffers: bytes with a reference-counted owner.
 *
 * A sea_buf is a small value (pointer, length, owner) passed by value.
 * Sharing one (sea_buf_share, sea_buf_slice) adds a reference to the same
 * memory instead of copying it; trimming narrows a view without touching
 * the bytes; the memory is freed when the last reference is released.
 * Reference counts are plain integers: a buffer belongs to one shard (its
 * memory, when freed, goes back to the shard that allocated it in any case).
 *
 *     sea_buf b;
 *     if (sea_buf_new(&b, 4096) < 0) ...
 *     sea_buf head = sea_buf_slice(&b, 0, 16);    // same bytes, one more reference
 *     sea_buf_release(&b);                        // head keeps the memory alive
 *     sea_buf_release(&head);                     // freed
 */
#ifndef SEA_BUFFER_H
#define SEA_BUFFER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sea__buf_owner;

typedef struct sea_buf {
    char *data;
    size_t len;
    struct sea__buf_owner *owner; /* private; NULL for an empty buffer */
} sea_buf;

/* An empty buffer (nothing to release). */
#define SEA_BUF_EMPTY ((sea_buf){0})

/* A new buffer of len bytes (uninitialised).  0, or -ENOMEM (*out empty). */
int sea_buf_new(sea_buf *out, size_t len);
/* A new buffer holding a copy of len bytes at data.  0 or -ENOMEM. */
int sea_buf_copy(sea_buf *out, const void *data, size_t len);
/*
 * A buffer over memory sea does not own: free_fn(arg) runs when the last
 * reference goes.  0 or -ENOMEM (free_fn is then not called).
 */
int sea_buf_wrap(sea_buf *out, void *data, size_t len, void (*free_fn)(void *arg), void *arg);
/* Another reference to the same bytes. */
sea_buf sea_buf_share(const sea_buf *b);
/* A reference to len bytes at off (clamped to b). */
sea_buf sea_buf_slice(const sea_buf *b, size_t off, size_t len);
/* Drops the first n bytes from the view (clamped). */
void sea_buf_trim_front(sea_buf *b, size_t n);
/* Keeps only the first len bytes in the view. */
void sea_buf_trim(sea_buf *b, size_t len);
/* Releases this reference and empties *b.  Harmless on an empty buffer. */
void sea_buf_release(sea_buf *b);
/* References to b's memory (0 for an empty buffer). */
size_t sea_buf_refs(const sea_buf *b);

#ifdef __cplusplus
}
#endif
#endif
