/*
 * http/prometheus.h - the Prometheus endpoint's module (prometheus.c):
 * --prometheus-port and --prometheus-address, started on shard 0 before
 * main, stopped at the orderly stop.
 */
#ifndef SEA_HTTP_PROMETHEUS_H
#define SEA_HTTP_PROMETHEUS_H

struct sea__module;

extern const struct sea__module sea__module_prometheus;

#endif
