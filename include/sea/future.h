/*
 * sea/future.h - futures and continuations.
 *
 * A future is the result of a computation that may not have finished: a value,
 * an error, or "not yet".  It is a 16-byte value passed and returned by value.
 * A ready future (value or error) is self-contained and costs no allocation;
 * a pending one refers to a node owned by the current shard, which is where the
 * value will land.
 *
 * Continuations are plain C functions, with an optional capture: a value
 * (usually a struct) that the continuation needs later.  The macros below
 * check at compile time that the function's signature fits, so a capture of
 * the wrong type, a misspelled field in its initializer or a parameter of
 * the wrong type is a compile error:
 *
 *     static sea_future add_one(int *i) { return sea_ready_int(*i + 1); }
 *     sea_future incr(int i) {
 *         return sea_then(sea_sleep(SEA_MSEC(10)), add_one, i);
 *     }
 *
 * The capture is the macro's last argument, so a compound literal with
 * several fields needs no extra parentheses: sea_then(f, fn, (struct st){.a =
 * 1, .b = 2}).  Leave it out when the continuation needs none.
 *
 * If the future is already ready the continuation runs at once, with no
 * allocation.  Otherwise the capture's bytes are copied into the pending node
 * (inline up to SEA_CAPTURE_INLINE bytes, else a separate allocation) and
 * released right after the continuation ran - or, if the continuation is
 * skipped because of an error, right when it is skipped.  A capture therefore
 * owns nothing that needs freeing unless a sea_finally step (or a
 * sea_then_wrapped step) frees it: a skipped sea_then never runs.
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

/*
 * Every macro that runs a function of yours later (these four, the loops,
 * sea_submit_to, sea_with_semaphore, sea_fiber_start, sea_app_run, ...)
 * takes the function and, optionally, a capture as its last argument:
 *
 *     sea_then(f, done)                       sea_future done(sea_value v)  or  done(void)
 *     sea_then(f, add, (struct st){.i = 1})   sea_future add(struct st *c, sea_value v)  or  add(struct st *c)
 *     sea_then(f, add, i)                     sea_future add(int *i, sea_value v)  or  add(int *i)
 *
 * The capture is any expression: a compound literal, a variable, a value.
 * It is copied (so a loop variable captured in each turn keeps that turn's
 * value) and the function receives a pointer to the copy, which lives until
 * the function has run.  Its type T is the expression's type without
 * qualifiers; an array decays to a pointer (wrap an array in a struct to
 * copy it).  The function's signature is checked at compile time: a
 * mismatch is an error that names the function and the signatures it may
 * have.  Parameters a function does not need (the value, the capture) are
 * left out of its signature, so none is unused.
 */

/*
 * sea_then(f, fn [, capture]): when f succeeds, runs fn, one of
 *     sea_future fn(T *capture, sea_value value)    sea_future fn(T *capture)
 *     sea_future fn(sea_value value)                sea_future fn(void)
 * and resolves the returned future with fn's result (which may itself be
 * pending: chains flatten).  If f fails, fn is skipped and the error passes
 * to the returned future unchanged.
 */
#define sea_then(f, ...) SEA__CAPTURE_DISPATCH(sea__then_m, __VA_ARGS__)(f, __VA_ARGS__)

/*
 * sea_then_wrapped(f, fn [, capture]): when f is ready, value or error, runs
 *     sea_future fn(T *capture, sea_future *ready)    sea_future fn(sea_future *ready)
 * fn inspects *ready with sea_future_failed/_error/_value, may return it with
 * sea_future_move, or return anything else.  An error in *ready that fn never
 * reads with sea_future_error() is reported as ignored; a boxed value fn does
 * not take with sea_future_value() is released.
 */
#define sea_then_wrapped(f, ...) SEA__CAPTURE_DISPATCH(sea__wrapped_m, __VA_ARGS__)(f, __VA_ARGS__)

/*
 * sea_finally(f, fn [, capture]): when f is ready, value or error, runs
 *     sea_future fn(T *capture)    sea_future fn(void)
 * The result is f's own result, unless the future fn returns fails: then that
 * error replaces it.  The place to release what a capture owns.
 */
#define sea_finally(f, ...) SEA__CAPTURE_DISPATCH(sea__finally_m, __VA_ARGS__)(f, __VA_ARGS__)

/*
 * sea_handle_error(f, fn [, capture]): only when f fails, runs
 *     sea_future fn(T *capture, int err, const char *msg)    sea_future fn(int err, const char *msg)
 * (msg may be NULL and is valid during the call) and resolves the returned
 * future with fn's result: return a value to recover, or a failed future to
 * pass an error on.  A successful f passes through untouched.
 */
#define sea_handle_error(f, ...) SEA__CAPTURE_DISPATCH(sea__handle_m, __VA_ARGS__)(f, __VA_ARGS__)

/* ---- private machinery behind the macros ---- */

/* Any function pointer, as stored; cast back to its real type before a call. */
typedef void (*sea__fnptr)(void);

/*
 * SEA__CAPTURE_DISPATCH(name, fn [, capture...]) expands to name##1 when a
 * capture follows the function, else name##0.  (A capture may hold commas,
 * as a compound literal does, so it may span several macro arguments: up to
 * 60.)
 */
#define SEA__CAT(a, b) SEA__CAT_(a, b)
#define SEA__CAT_(a, b) a##b
#define SEA__PICK62(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, \
                    _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, \
                    _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, \
                    _57, _58, _59, _60, _61, n, ...) \
    n
#define SEA__HAS_CAPTURE(...) \
    SEA__PICK62(__VA_ARGS__, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, \
                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, _)
#define SEA__CAPTURE_DISPATCH(name, ...) SEA__CAT(name, SEA__HAS_CAPTURE(__VA_ARGS__))

/* True if fn (a function or a function pointer) has exactly the type `type` (a pointer type). */
#define SEA__FN_IS(fn, type) __builtin_types_compatible_p(__typeof__(&*(fn)), type)

/*
 * SEA__CAPTURED(c, ok, msg, call, capture...): a statement expression that
 * copies the capture into a local named c, asserts ok at compile time (with
 * msg), then evaluates call, which may use &c and sizeof(c).  Callers name c
 * with SEA__UNIQUE, so that nested macros do not shadow each other.
 */
#define SEA__CAPTURED(c, ok, msg, call, ...) \
    __extension__({ \
        __typeof__(((void)0, __VA_ARGS__)) c = (__VA_ARGS__); \
        _Static_assert(ok, msg); \
        call; \
    })
/* The same with no capture. */
#define SEA__UNCAPTURED(ok, msg, call) \
    __extension__({ \
        _Static_assert(ok, msg); \
        call; \
    })
#define SEA__UNIQUE(name) SEA__CAT(name, __COUNTER__)
/* The end of a mismatch message: what T is. */
#define SEA__T_IS(...) ", where T is the type of the capture `" #__VA_ARGS__ "`"

#define sea__then_m0(f, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(sea_value)) || SEA__FN_IS(fn, sea_future (*)(void)), \
                    "sea_then: " #fn " must be  sea_future " #fn "(sea_value value)  or  sea_future " #fn \
                    "(void)  (no capture was given)", \
                    sea__then((f), (sea__fnptr)(fn), NULL, 0, SEA__FN_IS(fn, sea_future (*)(void))))
#define sea__then_m1(f, fn, ...) sea__then_c(SEA__UNIQUE(sea__cap), f, fn, __VA_ARGS__)
#define sea__then_c(c, f, fn, ...) \
    SEA__CAPTURED(c, \
                  SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, sea_value)) || \
                      SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  "sea_then: " #fn " must be  sea_future " #fn "(T *capture, sea_value value)  or  sea_future " #fn \
                  "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__then((f), (sea__fnptr)(fn), &c, sizeof(c), SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *))), \
                  __VA_ARGS__)

#define sea__wrapped_m0(f, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(sea_future *)), \
                    "sea_then_wrapped: " #fn " must be  sea_future " #fn "(sea_future *ready)  (no capture was given)", \
                    sea__then_wrapped((f), (sea__fnptr)(fn), NULL, 0))
#define sea__wrapped_m1(f, fn, ...) sea__wrapped_c(SEA__UNIQUE(sea__cap), f, fn, __VA_ARGS__)
#define sea__wrapped_c(c, f, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, sea_future *)), \
                  "sea_then_wrapped: " #fn " must be  sea_future " #fn "(T *capture, sea_future *ready)" \
                      SEA__T_IS(__VA_ARGS__), \
                  sea__then_wrapped((f), (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

#define sea__finally_m0(f, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(void)), \
                    "sea_finally: " #fn " must be  sea_future " #fn "(void)  (no capture was given)", \
                    sea__finally((f), (sea__fnptr)(fn), NULL, 0))
#define sea__finally_m1(f, fn, ...) sea__finally_c(SEA__UNIQUE(sea__cap), f, fn, __VA_ARGS__)
#define sea__finally_c(c, f, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  "sea_finally: " #fn " must be  sea_future " #fn "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__finally((f), (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

#define sea__handle_m0(f, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(int, const char *)), \
                    "sea_handle_error: " #fn " must be  sea_future " #fn \
                    "(int err, const char *msg)  (no capture was given)", \
                    sea__handle_error((f), (sea__fnptr)(fn), NULL, 0))
#define sea__handle_m1(f, fn, ...) sea__handle_c(SEA__UNIQUE(sea__cap), f, fn, __VA_ARGS__)
#define sea__handle_c(c, f, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, int, const char *)), \
                  "sea_handle_error: " #fn " must be  sea_future " #fn "(T *capture, int err, const char *msg)" \
                      SEA__T_IS(__VA_ARGS__), \
                  sea__handle_error((f), (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

/*
 * The usual shape of a function sea runs for you later or elsewhere:
 * fn(T *capture) with a capture, fn(void) without.  sea__fn_m0/m1 check it
 * and expand to call(pre..., fn, cap, capsz), where pre is a parenthesised
 * list of call's first arguments, each followed by a comma.
 */
#define SEA__UNPAREN(...) __VA_ARGS__
#define sea__fn_m0(what, call, pre, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(void)), \
                    what ": " #fn " must be  sea_future " #fn "(void)  (no capture was given)", \
                    call(SEA__UNPAREN pre (sea__fnptr)(fn), NULL, 0))
#define sea__fn_m1(what, call, pre, fn, ...) sea__fn_c(SEA__UNIQUE(sea__cap), what, call, pre, fn, __VA_ARGS__)
#define sea__fn_c(c, what, call, pre, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  what ": " #fn " must be  sea_future " #fn "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  call(SEA__UNPAREN pre (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)
/*
 * Calls a function of one of the shapes above: cap == NULL means the
 * function takes no capture, noval that it takes no value.  On the inline
 * paths both are constants and the choice compiles away.
 */
SEA__INLINE sea_future sea__call(sea__fnptr fn, void *cap) {
    return cap ? ((sea_future (*)(void *))fn)(cap) : ((sea_future (*)(void))fn)();
}
SEA__INLINE sea_future sea__call_then(sea__fnptr fn, void *cap, unsigned noval, sea_value v) {
    if (cap)
        return noval ? ((sea_future (*)(void *))fn)(cap) : ((sea_future (*)(void *, sea_value))fn)(cap, v);
    return noval ? ((sea_future (*)(void))fn)() : ((sea_future (*)(sea_value))fn)(v);
}
SEA__INLINE sea_future sea__call_wrapped(sea__fnptr fn, void *cap, sea_future *in) {
    return cap ? ((sea_future (*)(void *, sea_future *))fn)(cap, in) : ((sea_future (*)(sea_future *))fn)(in);
}
SEA__INLINE sea_future sea__call_handle(sea__fnptr fn, void *cap, int err, const char *msg) {
    return cap ? ((sea_future (*)(void *, int, const char *))fn)(cap, err, msg)
               : ((sea_future (*)(int, const char *))fn)(err, msg);
}

/* Per-thread hot state read by the inline fast paths (one TLS block). */
struct sea__hot {
    uint32_t inline_depth; /* nested inline continuations right now */
    uint32_t active;       /* 1 while a reactor runs on this thread */
    uint64_t preempt_at;   /* cycle counter value at which the task quota ends */
    int64_t lowres_now;    /* low-resolution clock, updated every loop iteration */
};
extern __thread struct sea__hot sea__hot __attribute__((tls_model("initial-exec")));

sea_future sea__then_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz, unsigned noval) SEA_MUST_USE;
sea_future sea__wrapped_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__finally_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__handle_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__finally_join(sea_future fn_result, sea_future input) SEA_MUST_USE;
void sea__wrapped_cleanup(sea_future *in);
void sea__release(sea_future *f);

/* True if a ready continuation may run inline right now. */
SEA__INLINE bool sea__may_inline(void) {
    return SEA__LIKELY(sea__hot.inline_depth < SEA_INLINE_DEPTH_MAX);
}

SEA_MUST_USE SEA__INLINE sea_future sea__then(sea_future f, sea__fnptr fn, void *cap, size_t capsz,
                                              unsigned noval) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if (kind == SEA__S_ERROR)
        return f;
    if (kind == SEA__S_VALUE && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = sea__call_then(fn, cap, noval, f.sea__v);
        sea__hot.inline_depth--;
        return r;
    }
    return sea__then_slow(f, fn, cap, capsz, noval);
}

SEA_MUST_USE SEA__INLINE sea_future sea__then_wrapped(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if ((kind == SEA__S_VALUE || kind == SEA__S_ERROR) && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = sea__call_wrapped(fn, cap, &f);
        sea__hot.inline_depth--;
        if (SEA__UNLIKELY(f.sea__state & (SEA__F_BOX | SEA__F_OWNED_MSG)) ||
            SEA__UNLIKELY((f.sea__state & (SEA__S_KIND | SEA__F_OBSERVED)) == SEA__S_ERROR))
            sea__wrapped_cleanup(&f);
        return r;
    }
    return sea__wrapped_slow(f, fn, cap, capsz);
}

SEA_MUST_USE SEA__INLINE sea_future sea__finally(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if ((kind == SEA__S_VALUE || kind == SEA__S_ERROR) && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = sea__call(fn, cap);
        sea__hot.inline_depth--;
        if (SEA__LIKELY((r.sea__state & (SEA__S_KIND | SEA__F_BOX)) == SEA__S_VALUE))
            return f;
        return sea__finally_join(r, f);
    }
    return sea__finally_slow(f, fn, cap, capsz);
}

SEA_MUST_USE SEA__INLINE sea_future sea__handle_error(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if (kind == SEA__S_VALUE)
        return f;
    if (kind == SEA__S_ERROR && sea__may_inline()) {
        sea__hot.inline_depth++;
        sea_future r = sea__call_handle(fn, cap, f.sea__err, (const char *)f.sea__v.ptr);
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
