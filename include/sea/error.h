/*
 * sea/error.h - error codes shared by every sea API.
 *
 * sea reports failures the way the kernel and libuv do: as negative integers.
 * Ordinary failures reuse the errno values (-ENOMEM, -ETIMEDOUT, ...); failures
 * that have no errno equivalent get codes of their own below -4000, well
 * outside the range the kernel uses.  A failed future also carries an optional
 * human-readable message (see sea/future.h); sea_strerror() turns the code
 * itself into text.
 */
#ifndef SEA_ERROR_H
#define SEA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* sea's own error codes (all negative, all below any errno value). */
enum {
    SEA_EBROKEN_PROMISE = -4001, /* the promise was released before it was resolved */
    SEA_EFUTURE_USED    = -4002, /* a future was consumed twice */
    SEA_ECANCELED       = -4003, /* the operation was cancelled (timer cancel, shutdown) */
    SEA_ESHUTDOWN       = -4004, /* the reactor is stopping and refuses new work */
    SEA_EUSAGE          = -4005, /* a command-line option was malformed or unknown */
    SEA_ENOTFIBER       = -4006, /* the call needs a fiber and was made outside one */
    SEA_EABORTED        = -4007, /* an abort source was asked to abort the operation */
    SEA_EGATE_CLOSED    = -4008, /* the gate is closed: no new operations may start */
    SEA_EBROKEN         = -4009, /* the semaphore, condition variable or queue was broken */
    SEA_ERROR_MIN       = -4099
};

/*
 * Returns a static description of err, which may be a negative errno value or
 * one of the SEA_E* codes above.  Never returns NULL; an unknown code yields
 * "unknown error".  Thread-safe: the text is never written to.
 */
const char *sea_strerror(int err);

/*
 * Returns the symbolic name of err ("ENOMEM", "SEA_EBROKEN_PROMISE", ...), or
 * "UNKNOWN" for a code sea does not know.  Useful in logs and test output.
 */
const char *sea_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
