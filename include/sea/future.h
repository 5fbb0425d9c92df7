/*
 * sea/future.h - futures and continuations.
 *
 * A future is the result of a computation that may not have finished: a value,
 * an error, or "not yet".  It is a 16-byte value passed and returned by value.
 * A ready future (value or error) is self-contained and costs no allocation;
 * a pending one refers to a node owned by the current shard, which is where the
 * value will land.
 *
 * Continuations are plain C functions plus a capture: a struct (or any lvalue)
 * whose bytes the continuation needs later.  The macros below check at compile
 * time that the function's first parameter is a pointer to the capture's type,
 * so a capture of the wrong type, or a misspelled field in its initializer, is
 * a compile error:
 *
 *     struct incr { int i; };
 *     static sea_future incr_done(struct incr *c, sea_value v) {
 *         (void)v;
 *         return sea_ready_int(c->i + 1);
 *     }
 *     sea_future incr(int i) {
 *         return sea_then(sea_sleep(SEA_MSEC(10)), incr_done, (struct incr){ .i = i });
 *     }
 *
 * The capture must be an lvalue: a variable or a compound literal.  It is the
 * macro's last argument, so a compound literal with several fields needs no
 * extra parentheses: sea_then(f, fn, (struct st){.a = 1, .b = 2}).
 *
 * If the future is already ready the continuation runs at once with the capture
 * where it stands (no copy, no allocation).  Otherwise the capture's bytes are
 * copied into the pending node (inline up to SEA_CAPTURE_INLINE bytes, else a
 * separate allocation) and released right after the continuation ran - or, if
 * the continuation is skipped because of an error, right when it is skipped.
 * A capture therefore owns nothing that needs freeing unless a sea_finally step
 * (or a sea_then_wrapped step) frees it: a skipped sea_then never runs.
 *
 * Rules:
 *  - Every future is used exactly once: passed to one of the continuation
 *    macros, to sea_future_ignore()/sea_future_detach(), or returned.  The
 *    compiler warns (an error under -Werror) when a future is dropped.  Using a
 *    pending future twice is caught at run time: the message
 *    "sea: future used twice" and abort().  A ready future is a plain value
 *    and cannot be tracked; keep it in one place.
 *  - Ready continuations run immediately, up to SEA_INLINE_DEPTH_MAX nested
 *    levels; past that the next one is queued, so an endless chain of ready
 *    futures neither overflows the stack nor starves the event loop.
 *  - Errors are negative errno-style codes (sea/error.h) plus an optional
 *    message, either static or owned by the future ("owned" messages are freed
 *    by sea when the error is consumed).
 *  - Values are a union: nothing, integers, sizes, doubles, pointers.  A plain
 *    pointer is handed over as-is; if it owns memory and the future might be
 *    dropped, wrap it in a sea_box so a dropped value is released.
 *
 * All of this is per shard: a future and its continuations belong to the shard
 * that created them.
 */
#ifndef SEA_FUTURE_H
#define SEA_FUTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_MUST_USE __attribute__((warn_unused_result))
#define SEA__INLINE static inline __attribute__((always_inline))
#define SEA__LIKELY(x) __builtin_expect(!!(x), 1)
#define SEA__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Bytes of capture kept inside a pending node; larger captures are allocated. */
#define SEA_CAPTURE_INLINE 56
/* Nested ready continuations run inline before the next one is queued. */
#define SEA_INLINE_DEPTH_MAX 256

/* The value a future carries.  Which member is meaningful is up to the API. */
typedef union sea_value {
    int64_t i;
    uint64_t u;
    size_t size;
    double d;
    void *ptr;
} sea_value;

/*
 * A value that owns resources: embed a sea_box in your struct and set release.
 * Whoever receives the box's pointer from a continuation owns it; if the value
 * is dropped instead (the future was detached or ignored, a sea_then_wrapped
 * continuation did not take it, or the reactor shut down with it pending),
 * sea calls release(box).
 */
typedef struct sea_box {
    void (*release)(struct sea_box *box);
} sea_box;

/* The future itself.  Fields are private: use the functions below. */
typedef struct sea_future {
    uint32_t sea__state; /* private: SEA__S_* kind in the low byte, SEA__F_* flags */
    int32_t sea__err;    /* private: error code, or the pending node's generation */
    sea_value sea__v;    /* private: value, error message, or pending node */
} sea_future;

/* Private state encoding (listed here because the fast paths are inline). */
enum {
    SEA__S_INVALID = 0, /* zero-initialised or already consumed */
    SEA__S_PENDING = 1,
    SEA__S_VALUE = 2,
    SEA__S_ERROR = 3,
    SEA__S_KIND = 0xff,
    SEA__F_BOX = 1u << 8,       /* value: sea__v.ptr is a sea_box the future owns */
    SEA__F_OWNED_MSG = 1u << 9, /* error: sea__v.ptr is a malloc'ed message */
    SEA__F_OBSERVED = 1u << 10, /* error: the code was read by the consumer */
};

/* ---- making ready futures (no allocation) ---- */

/* A ready future with no value (its value reads as 0). */
SEA_MUST_USE SEA__INLINE sea_future sea_ready(void) {
    sea_future f = {SEA__S_VALUE, 0, {0}};
    return f;
}
/* A ready future holding v. */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_value(sea_value v) {
    sea_future f = {SEA__S_VALUE, 0, v};
    return f;
}
/* A ready future holding the integer i (read it as v.i). */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_int(int64_t i) {
    sea_future f = {SEA__S_VALUE, 0, {.i = i}};
    return f;
}
/* A ready future holding the size n (read it as v.size). */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_size(size_t n) {
    sea_future f = {SEA__S_VALUE, 0, {.size = n}};
    return f;
}
/* A ready future holding the double d (read it as v.d). */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_double(double d) {
    sea_future f = {SEA__S_VALUE, 0, {.d = d}};
    return f;
}
/* A ready future holding the pointer p (read it as v.ptr); sea never frees p. */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_ptr(void *p) {
    sea_future f = {SEA__S_VALUE, 0, {.ptr = p}};
    return f;
}
/*
 * A ready future owning box: the consumer receives the box pointer in v.ptr and
 * owns it from then on; if the future is dropped, box->release(box) runs.
 */
SEA_MUST_USE SEA__INLINE sea_future sea_ready_box(sea_box *box) {
    sea_future f = {SEA__S_VALUE | SEA__F_BOX, 0, {.ptr = box}};
    return f;
}
/*
 * A failed future with error code err (negative; a non-negative err becomes
 * -EINVAL so a failure can never look like success) and an optional static
 * message (NULL for none; it must outlive the future - use a string literal).
 */
SEA_MUST_USE SEA__INLINE sea_future sea_failed(int err, const char *static_msg) {
    sea_future f = {SEA__S_ERROR, err < 0 ? err : -22 /* EINVAL */, {.ptr = (void *)static_msg}};
    return f;
}
/*
 * A failed future whose message is formatted (printf-style) into memory the
 * future owns.  If that memory cannot be allocated the error keeps its code
 * and carries no message.
 */
sea_future sea_failed_fmt(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3))) SEA_MUST_USE;

/* ---- inspecting a future ---- */

/* True if f holds a value or an error (a pending future may have become ready). */
bool sea_future_available(const sea_future *f);
/* True if f is ready and holds an error. */
bool sea_future_failed(const sea_future *f);
/*
 * The error code of a ready future (0 if it holds a value).  Reading it marks
 * the error as handled, so a sea_then_wrapped continuation that calls this does
 * not trigger the "exceptional future ignored" report.
 */
int sea_future_error(sea_future *f);
/* The message of a failed future, or NULL.  Valid while the future is. */
const char *sea_future_message(const sea_future *f);
/*
 * The value of a ready, successful future.  Takes ownership of a boxed value
 * (sea will no longer release it).  Returns a zero value for anything else.
 */
sea_value sea_future_value(sea_future *f);
/* Moves *f out (for returning it from a continuation), leaving *f consumed. */
sea_future sea_future_move(sea_future *f) SEA_MUST_USE;

/* ---- dropping a future ---- */

/*
 * Drops f: its value (if any) is released when it arrives.  If it fails, the
 * failure is reported on stderr as "exceptional future ignored: <error>" and
 * counted in the shard's statistics.  Use it for work you do not wait for but
 * whose failure would be a bug.
 */
void sea_future_ignore(sea_future f);
/* Drops f on purpose: its value or error is released silently when it arrives. */
void sea_future_detach(sea_future f);

/* ---- continuations ---- */

/* Capture for continuations that need none. */
typedef struct sea_nocapture {
    char unused;
} sea_nocapture;
#define SEA_NOCAPTURE ((sea_nocapture){0})

/*
 * sea_then(f, fn, capture): when f succeeds, run
 *     sea_future fn(CAPTURE_TYPE *capture, sea_value value);
 * and resolve the returned future with fn's result (which may itself be
 * pending: chains flatten).  If f fails, fn is skipped and the error passes to
 * the returned future unchanged.
 */
#define sea_then(f, fn, ...) \
    sea__then((f), (sea__then_fn)(fn), &(__VA_ARGS__), \
              sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, sea_value)))

/*
 * sea_then_wrapped(f, fn, capture): when f is ready, value or error, run
 *     sea_future fn(CAPTURE_TYPE *capture, sea_future *ready);
 * fn inspects *ready with sea_future_failed/_error/_value, may return it with
 * sea_future_move, or return anything else.  An error in *ready that fn never
 * reads with sea_future_error() is reported as ignored; a boxed value fn does
 * not take with sea_future_value() is released.
 */
#define sea_then_wrapped(f, fn, ...) \
    sea__then_wrapped((f), (sea__wrapped_fn)(fn), &(__VA_ARGS__), \
                      sizeof(__VA_ARGS__) + \
                          SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, sea_future *)))

/*
 * sea_finally(f, fn, capture): when f is ready, value or error, run
 *     sea_future fn(CAPTURE_TYPE *capture);
 * The result is f's own result, unless the future fn returns fails: then that
 * error replaces it.  The place to release what a capture owns.
 */
#define sea_finally(f, fn, ...) \
    sea__finally((f), (sea__finally_fn)(fn), &(__VA_ARGS__), \
                 sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)))

/*
 * sea_handle_error(f, fn, capture): only when f fails, run
 *     sea_future fn(CAPTURE_TYPE *capture, int err, const char *msg);
 * (msg may be NULL and is valid during the call) and resolve the returned
 * future with fn's result: return a value to recover, or a failed future to
 * pass an error on.  A successful f passes through untouched.
 */
#define sea_handle_error(f, fn, ...) \
    sea__handle_error((f), (sea__handle_fn)(fn), &(__VA_ARGS__), \
                      sizeof(__VA_ARGS__) + \
                          SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, int, const char *)))

/* ---- private machinery behind the macros ---- */

/* Compile-time check, usable inside an expression; evaluates to 0. */
#define SEA__CHECK_FN(fn, type) \
    (0 * sizeof(struct { \
         _Static_assert(__builtin_types_compatible_p(__typeof__(&(fn)), type), \
                        "continuation " #fn " does not match its capture: expected " #type); \
         char sea__c; \
     }))

typedef sea_future (*sea__then_fn)(void *cap, sea_value v);
typedef sea_future (*sea__wrapped_fn)(void *cap, sea_future *in);
typedef sea_future (*sea__finally_fn)(void *cap);
typedef sea_future (*sea__handle_fn)(void *cap, int err, const char *msg);

/* Per-thread hot state read by the inline fast paths (one TLS block). */
struct sea__hot {
    uint32_t inline_depth; /* nested inline continuations right now */
    uint32_t active;       /* 1 while a reactor runs on this thread */
    uint64_t preempt_at;   /* cycle counter value at which the task quota ends */
    int64_t lowres_now;    /* low-resolution clock, updated every loop iteration */
};
extern __thread struct sea__hot sea__hot __attribute__((tls_model("initial-exec")));

sea_future sea__then_slow(sea_future f, sea__then_fn fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__wrapped_slow(sea_future f, sea__wrapped_fn fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__finally_slow(sea_future f, sea__finally_fn fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__handle_slow(sea_future f, sea__handle_fn fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__finally_join(sea_future fn_result, sea_future input) SEA_MUST_USE;
void sea__wrapped_cleanup(sea_future *in);
void sea__release(sea_future *f);

/* True if a ready continuation may run inline right now. */
SEA__INLINE bool sea__may_inline(void) {
    return SEA__LIKELY(sea__hot.inline_depth < SEA_INLINE_DEPTH_MAX);
}

SEA_MUST_USE SEA__INLINE sea_future sea__then(sea_future f, sea__then_fn fn, void *cap, size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if (kind == SEA__S_ERROR)
        return f;
    if (kind == SEA__S_VALUE && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = fn(cap, f.sea__v);
        sea__hot.inline_depth--;
        return r;
    }
    return sea__then_slow(f, fn, cap, capsz);
}

SEA_MUST_USE SEA__INLINE sea_future sea__then_wrapped(sea_future f, sea__wrapped_fn fn, void *cap,
                                                      size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if ((kind == SEA__S_VALUE || kind == SEA__S_ERROR) && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = fn(cap, &f);
        sea__hot.inline_depth--;
        if (SEA__UNLIKELY(f.sea__state & (SEA__F_BOX | SEA__F_OWNED_MSG)) ||
            SEA__UNLIKELY((f.sea__state & (SEA__S_KIND | SEA__F_OBSERVED)) == SEA__S_ERROR))
            sea__wrapped_cleanup(&f);
        return r;
    }
    return sea__wrapped_slow(f, fn, cap, capsz);
}

SEA_MUST_USE SEA__INLINE sea_future sea__finally(sea_future f, sea__finally_fn fn, void *cap,
                                                 size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if ((kind == SEA__S_VALUE || kind == SEA__S_ERROR) && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = fn(cap);
        sea__hot.inline_depth--;
        if (SEA__LIKELY((r.sea__state & (SEA__S_KIND | SEA__F_BOX)) == SEA__S_VALUE))
            return f;
        return sea__finally_join(r, f);
    }
    return sea__finally_slow(f, fn, cap, capsz);
}

SEA_MUST_USE SEA__INLINE sea_future sea__handle_error(sea_future f, sea__handle_fn fn, void *cap,
                                                      size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if (kind == SEA__S_VALUE)
        return f;
    if (kind == SEA__S_ERROR && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = fn(cap, f.sea__err, (const char *)f.sea__v.ptr);
        sea__hot.inline_depth--;
        if (f.sea__state & SEA__F_OWNED_MSG)
            sea__release(&f);
        return r;
    }
    return sea__handle_slow(f, fn, cap, capsz);
}

#ifdef __cplusplus
}
#endif
#endif
