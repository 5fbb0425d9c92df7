/*
 * error.c - names and descriptions of error codes (sea/error.h).
 */
#include <sea/error.h>

#include <errno.h>
#include <string.h>

const char *sea_strerror(int err) {
    switch (err) {
    case 0:
        return "success";
    case SEA_EBROKEN_PROMISE:
        return "broken promise: released without being resolved";
    case SEA_EFUTURE_USED:
        return "future used twice, or never initialised";
    case SEA_ECANCELED:
        return "operation cancelled";
    case SEA_ESHUTDOWN:
        return "no running reactor (not started, or shutting down)";
    case SEA_EUSAGE:
        return "invalid command-line usage";
    case SEA_ENOTFIBER:
        return "not in a fiber";
    case SEA_EABORTED:
        return "aborted";
    case SEA_EGATE_CLOSED:
        return "gate closed";
    case SEA_EBROKEN:
        return "broken (semaphore, condition variable or queue)";
    }
    if (err < 0 && err > -4000) {
        /* strerrordesc_np returns static text and never allocates. */
        const char *d = strerrordesc_np(-err);
        if (d)
            return d;
    }
    return "unknown error";
}

const char *sea_errname(int err) {
    switch (err) {
    case 0:
        return "OK";
    case SEA_EBROKEN_PROMISE:
        return "SEA_EBROKEN_PROMISE";
    case SEA_EFUTURE_USED:
        return "SEA_EFUTURE_USED";
    case SEA_ECANCELED:
        return "SEA_ECANCELED";
    case SEA_ESHUTDOWN:
        return "SEA_ESHUTDOWN";
    case SEA_EUSAGE:
        return "SEA_EUSAGE";
    case SEA_ENOTFIBER:
        return "SEA_ENOTFIBER";
    case SEA_EABORTED:
        return "SEA_EABORTED";
    case SEA_EGATE_CLOSED:
        return "SEA_EGATE_CLOSED";
    case SEA_EBROKEN:
        return "SEA_EBROKEN";
    }
    if (err < 0 && err > -4000) {
        const char *n = strerrorname_np(-err);
        if (n)
            return n;
    }
    return "UNKNOWN";
}
