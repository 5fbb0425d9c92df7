/*
 * check.h - the tiny test harness every sea test program uses.
 *
 * A test program lists its cases; each case is a function returning a future.
 * sea_test_main runs them one after another inside one reactor (so the cases
 * also exercise the reactor), counts failed CHECKs and failed futures, prints
 * "N passed, N failed" and exits non-zero if anything failed.
 */
#ifndef SEA_TEST_CHECK_H
#define SEA_TEST_CHECK_H

#include <sea/sea.h>
#include <stdio.h>

extern int sea_test_failures;

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            sea_test_failures++; \
        } \
    } while (0)

#define CHECK_EQ(a, b) \
    do { \
        long long sea__a = (long long)(a), sea__b = (long long)(b); \
        if (sea__a != sea__b) { \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, #a, \
                    sea__a, #b, sea__b); \
            sea_test_failures++; \
        } \
    } while (0)

struct sea_test_case {
    const char *name;
    sea_future (*fn)(void);
};

#define SEA_TEST(name) {#name, name}

/* Runs the cases in order inside sea_app_run; returns the process exit code. */
int sea_test_main(int argc, char **argv, const struct sea_test_case *cases, size_t n);

#endif
