/*
 * test_errors.c - error codes, their names and descriptions (sea/error.h).
 */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
} sea_codes[] = {
    {SEA_EBROKEN_PROMISE, "SEA_EBROKEN_PROMISE"}, {SEA_EFUTURE_USED, "SEA_EFUTURE_USED"},
    {SEA_ECANCELED, "SEA_ECANCELED"},             {SEA_ESHUTDOWN, "SEA_ESHUTDOWN"},
    {SEA_EUSAGE, "SEA_EUSAGE"},                   {SEA_ENOTFIBER, "SEA_ENOTFIBER"},
    {SEA_EABORTED, "SEA_EABORTED"},               {SEA_EGATE_CLOSED, "SEA_EGATE_CLOSED"},
    {SEA_EBROKEN, "SEA_EBROKEN"},
};
#define NCODES (sizeof(sea_codes) / sizeof(sea_codes[0]))

static sea_future t_sea_codes(void) {
    for (size_t i = 0; i < NCODES; i++) {
        int c = sea_codes[i].code;
        /* Below every errno value, above SEA_ERROR_MIN. */
        CHECK(c < -4000);
        CHECK(c > SEA_ERROR_MIN);
        CHECK_STREQ(sea_errname(c), sea_codes[i].name);
        const char *d = sea_strerror(c);
        CHECK(d != NULL && d[0] != '\0');
        CHECK(strcmp(d, "unknown error") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(sea_codes[j].code != c);
            CHECK(strcmp(sea_strerror(sea_codes[j].code), d) != 0);
        }
    }
    CHECK_CONTAINS(sea_strerror(SEA_EBROKEN_PROMISE), "broken promise");
    return sea_ready();
}

static sea_future t_errno_codes(void) {
    CHECK_STREQ(sea_errname(-ENOMEM), "ENOMEM");
    CHECK_STREQ(sea_strerror(-ENOMEM), "Cannot allocate memory");
    CHECK_STREQ(sea_errname(-EBADF), "EBADF");
    CHECK_STREQ(sea_errname(-EINVAL), "EINVAL");
    CHECK_STREQ(sea_errname(-ETIMEDOUT), "ETIMEDOUT");
    CHECK_STREQ(sea_strerror(-ENOENT), "No such file or directory");
    /* Every errno the kernel defines has a name and a description. */
    int missing = 0;
    for (int e = 1; e < 134; e++) {
        if (e == 41 || e == 58) /* unused numbers on Linux */
            continue;
        missing += strcmp(sea_errname(-e), "UNKNOWN") == 0;
        missing += strcmp(sea_strerror(-e), "unknown error") == 0;
    }
    CHECK_EQ(missing, 0);
    return sea_ready();
}

static sea_future t_success_and_unknown(void) {
    CHECK_STREQ(sea_errname(0), "OK");
    CHECK_STREQ(sea_strerror(0), "success");
    const int unknown[] = {1, 5, ENOMEM, INT_MAX, INT_MIN, -4000, -3999, SEA_ERROR_MIN, -4010, -4050, -100000};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        CHECK_STREQ(sea_errname(unknown[i]), "UNKNOWN");
        CHECK_STREQ(sea_strerror(unknown[i]), "unknown error");
    }
    return sea_ready();
}

static void *names_thread(void *arg) {
    int *bad = arg;
    for (int k = 0; k < 20000; k++) {
        int e = -(1 + k % 130);
        const char *a = sea_strerror(e), *b = sea_errname(e);
        if (!a || !b)
            (*bad)++;
        if (strcmp(sea_errname(SEA_ECANCELED), "SEA_ECANCELED") != 0)
            (*bad)++;
    }
    return NULL;
}

static sea_future t_thread_safe(void) {
    pthread_t th[4];
    int bad[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, names_thread, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(bad[i], 0);
    }
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_sea_codes),
    SEA_TEST(t_errno_codes),
    SEA_TEST(t_success_and_unknown),
    SEA_TEST(t_thread_safe),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
