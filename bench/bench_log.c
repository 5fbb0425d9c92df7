/*
 * bench_log.c - what a log line costs the shard that writes it.
 *
 * Three ways, in one process, output to /dev/null (so the device costs
 * nothing and the numbers are the logging itself):
 *   log.sea_enabled   sea_log_info on a shard: format, then into the shard's
 *                     ring (the writer thread does the write(2));
 *   log.write_direct  the same line formatted and written with one write(2)
 *                     per line, as a simple blocking logger does;
 *   log.sea_disabled  sea_log_debug at level info: the level test only.
 * Medians of SEA_BENCH_RUNS runs (default 7), interleaved.  A run writes
 * 2,000 lines, about 200 KB, which fits the shard's 256 KiB ring, and the
 * writer drains it between runs: no line is dropped, so every run does the
 * whole work.
 */
#include <sea/sea.h>

#include "bench.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

SEA_LOGGER(bench_logger, "bench");
#define LINES 2000

static BENCH_NOIPA int payload(int i) {
    return i * 7;
}

static double run_sea_enabled(void) {
    int64_t t0 = bench_ns();
    for (int i = 0; i < LINES; i++)
        sea_log_info(&bench_logger, "request %d served in %d us from cache", i, payload(i));
    return (double)(bench_ns() - t0) / LINES;
}

static double run_sea_disabled(void) {
    int64_t t0 = bench_ns();
    for (int i = 0; i < LINES * 500; i++)
        sea_log_debug(&bench_logger, "request %d served in %d us from cache", i, payload(i));
    return (double)(bench_ns() - t0) / (LINES * 500);
}

/* The same line, timestamp included, with one write(2) each. */
static double run_write_direct(void) {
    int64_t t0 = bench_ns();
    for (int i = 0; i < LINES; i++) {
        char line[256];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof(line),
                         "%04d-%02d-%02d %02d:%02d:%02d.%06ld [shard 0] INFO  bench - request %d served in %d us "
                         "from cache\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         ts.tv_nsec / 1000, i, payload(i));
        ssize_t w = write(2, line, (size_t)n);
        (void)w;
    }
    return (double)(bench_ns() - t0) / LINES;
}

static sea_future bench_main(void) {
    int runs = bench_runs();
    struct bench_series enabled = {0}, direct = {0}, disabled = {0};
    run_sea_enabled(); /* warm-up */
    run_write_direct();
    for (int r = 0; r < runs; r++) {
        bench_add(&enabled, run_sea_enabled());
        bench_add(&direct, run_write_direct());
        bench_add(&disabled, run_sea_disabled());
        /* Let the writer drain between runs, so that each run starts with an empty ring. */
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
    }
    printf("# lines of about 100 bytes to /dev/null, %d per run, medians of %d runs\n", LINES, runs);
    double e = bench_report("log.sea_enabled", &enabled, "ns/line");
    double d = bench_report("log.write_direct", &direct, "ns/line");
    bench_report("log.sea_disabled", &disabled, "ns/call");
    bench_ratio("log.sea_enabled.ratio_vs_write_direct", e, d);
    return sea_ready();
}

int main(int argc, char **argv) {
    /* Everything logged goes to /dev/null; results go to stdout. */
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 2) < 0)
        return 1;
    close(null);
    return bench_app_run(argc, argv, bench_main);
}
