/*
 * net/net.h - the network layer's private side: the module that gives each
 * shard its counters (sea_net_stats, a reserved shard slot) and registers
 * them as metrics.
 */
#ifndef SEA_NET_NET_H
#define SEA_NET_NET_H

#include <sea/net.h>

#include <stdint.h>

struct sea__module;

/* The current shard's network counters, or a sink off a shard (counted nowhere). */
sea_net_stats *sea__net_stats(void);

extern const struct sea__module sea__module_net;

/* A listener's descriptor (the server dups a Unix listener's for its other shards). */
int sea__listener_fd(const sea_listener *l);

/*
 * Added to the wall clock that session tickets' key periods are counted on
 * (tls.c): tests move it to see keys rotate without waiting hours.
 */
extern int64_t sea__tls_clock_skew;

#endif
