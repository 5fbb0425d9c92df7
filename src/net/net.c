/*
 * net.c - the network layer as a module: each shard's counters
 * (sea_net_stats) in a shard slot reserved for them, served as the
 * sea_network_* metrics.
 */
#include "net/net.h"

#include <sea/error.h>
#include <sea/metrics.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/module.h"
#include "core/shard.h"

/* The shard slot of the counters: reserved by the first start, the same for every later run. */
static unsigned net_slot;

sea_net_stats *sea__net_stats(void) {
    static __thread sea_net_stats sink;
    struct sea__shard *s = sea__shard_current;
    sea_net_stats *st = s && net_slot ? s->slot[net_slot] : NULL;
    return st ? st : &sink;
}

int sea_net_stats_get(sea_net_stats *out) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !net_slot || !s->slot[net_slot])
        return SEA_ESHUTDOWN;
    *out = *(sea_net_stats *)s->slot[net_slot];
    return 0;
}

static int net_start(const struct sea__run *run, char *err, size_t errlen) {
    (void)run;
    if (!net_slot)
        net_slot = sea__slot_reserve();
    return 0;
}

static int net_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    sea_net_stats *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->slot[net_slot] = st;
    return 0;
}

static int net_metrics(struct sea__shard *s, char *err, size_t errlen) {
    sea_net_stats *st = s->slot[net_slot];
    const struct {
        const char *name, *help;
        bool counter;
        uint64_t *field;
    } metrics[] = {
        {"sea_network_bytes_received_total", "Bytes read from sockets", true, &st->bytes_received},
        {"sea_network_bytes_sent_total", "Bytes written to sockets", true, &st->bytes_sent},
        {"sea_network_connections_accepted_total", "Connections accepted", true, &st->accepted},
        {"sea_network_connections_established_total", "Outgoing connections established", true, &st->connected},
        {"sea_network_sockets_open", "Sockets (not listeners) open now", false, &st->sockets_open},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(metrics) / sizeof(metrics[0]); i++)
        rc = metrics[i].counter ? sea_counter_register_fn(metrics[i].name, metrics[i].help, NULL, sea_metric_read_u64,
                                                          metrics[i].field, NULL)
                                : sea_gauge_register_fn(metrics[i].name, metrics[i].help, NULL, sea_metric_read_u64,
                                                        metrics[i].field, NULL);
    if (rc < 0)
        snprintf(err, errlen, "cannot register the network's metrics: %s", sea_strerror(rc));
    return rc;
}

static void net_shard_stop(struct sea__shard *s) {
    free(s->slot[net_slot]);
    s->slot[net_slot] = NULL;
}

const struct sea__module sea__module_net = {
    .name = "net",
    .start = net_start,
    .shard_start = net_shard_start,
    .shard_stop = net_shard_stop,
    .metrics = net_metrics,
};
