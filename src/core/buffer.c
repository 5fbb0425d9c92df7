/*
 * buffer.c - temporary buffers (sea/buffer.h): a reference count in front of
 * the bytes (or of a pointer to memory someone else owns).
 */
#include <sea/buffer.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/panic.h"

struct sea__buf_owner {
    size_t refs;
    void (*free_fn)(void *arg); /* wrapped memory; NULL when the bytes follow */
    void *arg;
    _Alignas(max_align_t) char bytes[];
};
int sea_buf_new(sea_buf *out, size_t len) {
    struct sea__buf_owner *o = len > SIZE_MAX - sizeof(*o) ? NULL : malloc(sizeof(*o) + len);
    if (!o) {
        *out = SEA_BUF_EMPTY;
        return -ENOMEM;
    }
    o->refs = 1;
    o->free_fn = NULL;
    o->arg = NULL;
    *out = (sea_buf){o->bytes, len, o};
    return 0;
}

int sea_buf_copy(sea_buf *out, const void *data, size_t len) {
    int rc = sea_buf_new(out, len);
    if (rc == 0 && len)
        memcpy(out->data, data, len);
    return rc;
}
int sea_buf_wrap(sea_buf *out, void *data, size_t len, void (*free_fn)(void *arg), void *arg) {
    struct sea__buf_owner *o = malloc(sizeof(*o));
    if (!o) {
        *out = SEA_BUF_EMPTY;
        return -ENOMEM;
    }
    o->refs = 1;
    o->free_fn = free_fn;
    o->arg = arg;
    *out = (sea_buf){data, len, o};
    return 0;
}

sea_buf sea_buf_share(const sea_buf *b) {
    if (b->owner)
        b->owner->refs++;
    return *b;
}

sea_buf sea_buf_slice(const sea_buf *b, size_t off, size_t len) {
    sea_buf s = sea_buf_share(b);
    sea_buf_trim_front(&s, off);
    sea_buf_trim(&s, len);
    return s;
}
void sea_buf_trim_front(sea_buf *b, size_t n) {
    if (n > b->len)
        n = b->len;
    b->data += n;
    b->len -= n;
}

void sea_buf_trim(sea_buf *b, size_t len) {
    if (len < b->len)
        b->len = len;
}
void sea_buf_release(sea_buf *b) {
    struct sea__buf_owner *o = b->owner;
    *b = SEA_BUF_EMPTY;
    if (!o)
        return;
    if (o->refs == 0)
        sea__panic("sea_buf_release of a buffer with no references left");
    if (--o->refs)
        return;
    if (o->free_fn)
        o->free_fn(o->arg);
    free(o);
}
size_t sea_buf_refs(const sea_buf *b) {
    return b->owner ? b->owner->refs : 0;
}
