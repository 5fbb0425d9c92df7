/*
 * stall_filter.h - removing the stall detector's reports from a program's
 * captured stderr.
 *
 * On a loaded machine, or under a sanitizer, a shard may legitimately run
 * a task for longer than --blocked-reactor-notify-ms (or be preempted while
 * it does), and the detector says so on stderr.  That is not what the tests
 * that compare a program's stderr are about, so they compare it without
 * those reports.  (test_ops, which is about them, reads them unfiltered.)
 */
#ifndef SEA_TEST_STALL_FILTER_H
#define SEA_TEST_STALL_FILTER_H

/*
 * Removes, in place, every "Reactor stalled ..." line with the backtrace
 * lines ("  0x...") that follow it, and every "... stall reports of shard N
 * were suppressed" line.  Returns text.
 */
char *sea_test_drop_stall_reports(char *text);

#endif
