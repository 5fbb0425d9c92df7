/*
 * sea/io_sched.h - the disk I/O scheduler: I/O classes with shares, and
 * the disk model that tells the scheduler what the device can take.
 *
 * Every file read and write (sea/file.h) belongs to an I/O class.  Each
 * shard queues its requests per class and sends them to the device in the
 * order of a fair queue: a class that has requests waiting gets the
 * device's time in proportion to its shares, whatever the others ask for.
 * Two classes with 1000 and 100 shares that both keep the device busy get
 * ten to one of it; a class alone gets all of it.  A request's cost is the
 * device time the model gives it: 1/IOPS plus its bytes over the bandwidth
 * (read and write figures apart).
 *
 *     sea_io_class *query = sea_io_class_get("query", 1000);
 *     sea_io_class *compaction = sea_io_class_get("compaction", 100);
 *     sea_file_set_io_class(f, compaction);
 *
 * With a disk model (--io-properties-file, as sea-iotune writes it), the
 * shards together send the device no more than its measured rate: a
 * token bucket of device time, shared by every shard, that refills at one
 * second per second, and no more than --io-latency-goal-ms of device time
 * in flight (default 1.5 ms).  Requests beyond that wait in sea's queues,
 * where the fair queue orders them, rather than in the device's, where a
 * latency-sensitive request would wait behind every bulk one.  Reads and
 * writes over 128 KiB are queued as 128 KiB pieces, so that no class takes
 * a long stretch of device time at once.  Without a model nothing limits
 * the rate; each shard keeps at most --io-max-requests requests at the
 * device (default 128), and the fair queue orders the rest.
 *
 * Per class and shard, the Prometheus endpoint shows sea_io_queued,
 * sea_io_executing, sea_io_ops_total, sea_io_bytes_total and the
 * sea_io_latency_seconds histogram (from queueing to completion), labelled
 * class="NAME".
 */
#ifndef SEA_IO_SCHED_H
#define SEA_IO_SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_io_class sea_io_class;

/* Classes a process may have, the default one included. */
#define SEA_IO_CLASSES_MAX 32

/*
 * The class called name: made with shares (1..10000) the first time,
 * the same class after (its shares unchanged: see sea_io_class_set_shares).
 * Any thread, any time.  NULL if name is empty or longer than 63 bytes,
 * shares is out of range, or SEA_IO_CLASSES_MAX classes exist.
 */
sea_io_class *sea_io_class_get(const char *name, unsigned shares);
/* The class of files opened without one: "default", 1000 shares. */
sea_io_class *sea_io_class_default(void);
const char *sea_io_class_name(const sea_io_class *c);
unsigned sea_io_class_shares(const sea_io_class *c);
/* Changes c's shares (1..10000) for requests dispatched from now on.  0 or -EINVAL. */
int sea_io_class_set_shares(sea_io_class *c, unsigned shares);

/* A class's figures on the current shard. */
typedef struct sea_io_class_stats {
    uint64_t queued;       /* waiting in sea's queue now */
    uint64_t executing;    /* at the device now */
    uint64_t ops;          /* requests completed */
    uint64_t bytes;        /* bytes they moved */
    uint64_t latency_ns;   /* their total time from queueing to completion */
    double cost;           /* their total cost: seconds of device time by the model */
} sea_io_class_stats;

/* c's figures on the current shard.  0, or SEA_ESHUTDOWN off a shard. */
int sea_io_class_stats_get(const sea_io_class *c, sea_io_class_stats *out);

/* ---- the disk model ---- */

/* What a device can do, as sea-iotune measures it: operations per second and bytes per second. */
typedef struct sea_io_properties {
    double read_iops, write_iops;           /* 4 KiB random, at the depth where latency starts to rise */
    double read_bandwidth, write_bandwidth; /* bytes/s, large sequential requests */
} sea_io_properties;

/*
 * Parses an io-properties file's text (len bytes; Seastar's YAML layout,
 * of which sea reads the first disk's four figures):
 *
 *     disks:
 *       - mountpoint: /var/lib/data
 *         read_iops: 95000
 *         read_bandwidth: 1900000000
 *         write_iops: 60000
 *         write_bandwidth: 1100000000
 *
 * Returns 0, or -EINVAL with a one-line reason (and the line number) in err.
 */
int sea_io_properties_parse(const char *text, size_t len, sea_io_properties *out, char *err, size_t errlen);
/*
 * Writes p in that layout for mountpoint into buf (a NUL-terminated text).
 * Returns the length it needs (as snprintf).
 */
int sea_io_properties_format(const sea_io_properties *p, const char *mountpoint, char *buf, size_t len);
/* The model in use (from --io-properties-file): 0, or -ENOENT if there is none. */
int sea_io_properties_get(sea_io_properties *out);

#ifdef __cplusplus
}
#endif
#endif
