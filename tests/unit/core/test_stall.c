/*
 * test_stall.c - the stall detector's watchdog against a shard that has not
 * begun its first turn, and one stuck in a turn.
 *
 * A shard leaves the start-up barrier and only then runs its first turn; on
 * a loaded machine it may wait for a CPU in between, which is no stall (no
 * task of its is running).  Once reported as "Reactor stalled for 31 ms" in
 * the barrier.  Here a fake shard (this thread) never turns: with heartbeat
 * 0 the watchdog must stay quiet however long it watches; with a heartbeat
 * that then stops moving it must report, as for any stuck task.  stderr goes
 * to a temporary file that the test reads.
 *
 * Timing: the quiet phase watches for 300 ms (12 thresholds); a broken
 * detector reports within that on any machine that runs the watchdog at
 * all, and a right one never does, however slow the machine.  The reporting
 * phase waits up to 20 s for the report, so it does not depend on speed
 * either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/module.h"
#include "core/shard.h"
#include "core/smp.h"
#include "core/stall.h"

static int failures;
#define EXPECT(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stdout, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stdout, __VA_ARGS__); \
            fputc('\n', stdout); \
            failures++; \
        } \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps s seconds in all, through the watchdog's SIGRTMIN (which ends a nanosleep early). */
static void pause_for(double s) {
    double end = now_s() + s;
    while (now_s() < end) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

static char *read_all(FILE *f) {
    fflush(f);
    long len = ftell(f);
    char *text = calloc(1, (size_t)len + 1);
    if (!text)
        return NULL;
    rewind(f);
    size_t got = fread(text, 1, (size_t)len, f);
    text[got] = '\0';
    fseek(f, 0, SEEK_END);
    return text;
}

int main(void) {
    /* stderr into a temporary file; the test's own messages go to stdout. */
    FILE *capture = tmpfile();
    if (!capture || dup2(fileno(capture), 2) < 0) {
        printf("cannot capture stderr: %s\n", strerror(errno));
        return 1;
    }
    setvbuf(stderr, NULL, _IONBF, 0);

    struct sea__shard *shard = calloc(1, sizeof(*shard));
    struct sea__shard *shards[1] = {shard};
    struct sea__smp smp = {.n = 1, .shards = shards};
    char err[256] = "";
    if (!shard || sea__module_stall.shard_start(shard, err, sizeof(err)) < 0) {
        printf("cannot set up the fake shard: %s\n", err);
        return 1;
    }
    shard->id = 0;
    shard->thread = pthread_self();
    atomic_store(&shard->beat, 0);   /* never turned: between the barrier and its first turn */
    atomic_store(&shard->asleep, 0);
    EXPECT(sea__module_stall.running(&smp, err, sizeof(err)) == 0, "%s", err); /* the default threshold: 25 ms */

    pause_for(0.3);
    char *text = read_all(capture);
    EXPECT(text && !strstr(text, "Reactor stalled"), "a shard before its first turn was reported:\n%s", text);
    free(text);

    /* The first turn begins, and never ends: a stall like any other. */
    atomic_store(&shard->beat, 1);
    double give_up = now_s() + 20;
    bool reported = false;
    while (!reported && now_s() < give_up) {
        pause_for(0.05);
        text = read_all(capture);
        reported = text && strstr(text, "Reactor stalled for") && strstr(text, "on shard 0");
        free(text);
    }
    EXPECT(reported, "a shard stuck in its first turn was not reported within 20 s");

    sea__module_stall.ended(&smp);
    sea__module_stall.shard_stop(shard);
    free(shard);
    if (failures)
        return 1;
    printf("PASS\n");
    return 0;
}
