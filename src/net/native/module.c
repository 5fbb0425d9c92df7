/*
 * net/native/module.c - the native stack as a module: its options, and the
 * stack itself when --network-stack=native.
 *
 * With the default --network-stack=posix nothing here runs beyond reading
 * the options.  With native, the stack is opened on shard 0 before main and
 * its fiber runs until the orderly stop (on the TAP device, or with
 * --xdp-device on queue 0 of an interface through AF_XDP); sockets to and from IPv4 addresses
 * other than loopback then go through it (nsock.c), while Unix sockets and
 * loopback stay with the kernel.  One shard for now: steering between
 * shards' queues is not built, so more shards are refused at start.
 */
#include "net/native/module.h"

#include <sea/error.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "core/module.h"
#include "net/native/nsock.h"

static struct sea__native_options opts;
static struct sea__nstack *stack; /* shard 0's, while it runs */
static sea_abort_source stack_stop;
static sea_future stack_run;
static bool stack_running;

const struct sea__native_options *sea__native_options(void) { return &opts; }

struct sea__nstack *sea__native_for(const sea_addr *addr) {
    struct sea__nstack *st = sea__native_stack();
    if (!st || addr->u.sa.sa_family != AF_INET)
        return NULL;
    uint32_t a = ntohl(addr->u.in4.sin_addr.s_addr);
    return (a >> 24) == 127 ? NULL : st; /* loopback stays with the kernel */
}
struct sea__nstack *sea__native_stack(void) { return stack_running ? stack : NULL; }

static bool is_stack(const char *v) { return !strcmp(v, "posix") || !strcmp(v, "native"); }

static bool is_ipv4(const char *v) {
    struct in_addr a;
    return inet_pton(AF_INET, v, &a) == 1;
}

static bool is_mac(const char *v) {
    unsigned m[6];
    char extra;
    if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (m[i] > 0xff)
            return false;
    return !(m[0] & 1); /* a unicast address */
}

static const struct sea__opt options[] = {
    {.o = {.name = "network-stack", .type = SEA_OPTION_STRING, .default_value = "posix",
           .help = "posix: the kernel's sockets; native: sea's own TCP/IP stack on --tap-device for IPv4 "
                   "addresses other than loopback (one shard for now; see docs/native-stack.md)"},
     .value_name = "STACK", .meaning = "posix or native", .check = is_stack},
    {.o = {.name = "tap-device", .type = SEA_OPTION_STRING, .default_value = "tap0",
           .help = "the native stack's TAP device (made if it does not exist and sea may)"},
     .value_name = "NAME"},
    {.o = {.name = "xdp-device", .type = SEA_OPTION_STRING,
           .help = "instead of --tap-device: take queue 0 of this interface (a NIC, a veth end) with AF_XDP; the "
                   "stack then uses the interface's MAC unless --hw-address says otherwise"},
     .value_name = "NAME"},
    {.o = {.name = "host-ipv4-addr", .type = SEA_OPTION_STRING,
           .help = "the native stack's IPv4 address (needed with --network-stack=native)"},
     .value_name = "ADDR", .meaning = "an IPv4 address", .check = is_ipv4},
    {.o = {.name = "netmask-ipv4-addr", .type = SEA_OPTION_STRING, .default_value = "255.255.255.0",
           .help = "the native stack's netmask"},
     .value_name = "ADDR", .meaning = "an IPv4 netmask", .check = is_ipv4},
    {.o = {.name = "gw-ipv4-addr", .type = SEA_OPTION_STRING,
           .help = "the native stack's gateway (default: none; only the subnet is reachable)"},
     .value_name = "ADDR", .meaning = "an IPv4 address", .check = is_ipv4},
    {.o = {.name = "hw-address", .type = SEA_OPTION_STRING,
           .help = "the native stack's MAC (default: random, locally administered)"},
     .value_name = "MAC", .meaning = "a unicast MAC such as 02:00:00:00:00:01", .check = is_mac},
    {.o = {.name = "native-fault-loss-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1000000,
           .help = "testing: frames the native stack's device loses, per million, each way"},
     .value_name = "N"},
    {.o = {.name = "native-fault-dup-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1000000,
           .help = "testing: frames it sends twice, per million"},
     .value_name = "N"},
    {.o = {.name = "native-fault-reorder-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0,
           .max = 1000000, .help = "testing: frames it sends after the next one, per million"},
     .value_name = "N"},
    {.o = {.name = "native-fault-corrupt-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0,
           .max = 1000000, .help = "testing: frames with a bit flipped, per million, each way"},
     .value_name = "N"},
    {.o = {.name = "native-fault-seed", .type = SEA_OPTION_INT, .default_value = "1", .min = 0, .max = 1 << 30,
           .help = "testing: the fault injector's seed"},
     .value_name = "N"},
};

static uint32_t ipv4_of(const char *s) {
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

static int native_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    memset(&opts, 0, sizeof(opts));
    opts.native = !strcmp(sea__opt_string(v, "network-stack"), "native");
    opts.tap = sea__opt_string(v, "tap-device");
    opts.xdp = sea__opt_string(v, "xdp-device");
    opts.addr = ipv4_of(sea__opt_string(v, "host-ipv4-addr"));
    opts.netmask = ipv4_of(sea__opt_string(v, "netmask-ipv4-addr"));
    opts.gw = ipv4_of(sea__opt_string(v, "gw-ipv4-addr"));
    const char *mac = sea__opt_string(v, "hw-address");
    if (mac) {
        unsigned m[6];
        sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
        for (int i = 0; i < 6; i++)
            opts.mac[i] = (uint8_t)m[i];
        opts.have_mac = true;
    }
    opts.faults = (struct sea__nstack_faults){
        .loss = (uint32_t)sea__opt_int(v, "native-fault-loss-ppm"),
        .dup = (uint32_t)sea__opt_int(v, "native-fault-dup-ppm"),
        .reorder = (uint32_t)sea__opt_int(v, "native-fault-reorder-ppm"),
        .corrupt = (uint32_t)sea__opt_int(v, "native-fault-corrupt-ppm"),
        .seed = (uint64_t)sea__opt_int(v, "native-fault-seed"),
    };
    if (opts.native && !opts.addr) {
        snprintf(err, errlen, "--network-stack=native needs --host-ipv4-addr (the stack's own address)");
        return SEA_EUSAGE;
    }
    if (opts.gw && (opts.gw & opts.netmask) != (opts.addr & opts.netmask)) {
        snprintf(err, errlen, "--gw-ipv4-addr is not on the subnet of --host-ipv4-addr and --netmask-ipv4-addr");
        return SEA_EUSAGE;
    }
    return 0;
}

static int native_start(const struct sea__run *run, char *err, size_t errlen) {
    if (opts.native && run->nshards > 1) {
        snprintf(err, errlen,
                 "--network-stack=native runs on one shard for now (steering between shards' queues is not "
                 "built): use -c1");
        return -EINVAL;
    }
    return 0;
}

/* On shard 0 before main: the device opened, the stack's fiber started. */
static int native_running(struct sea__smp *smp, char *err, size_t errlen) {
    (void)smp;
    if (!opts.native)
        return 0;
    struct sea__nstack_config cfg = {.tap = opts.tap, .xdp = opts.xdp, .addr = opts.addr, .netmask = opts.netmask,
                                     .gw = opts.gw, .faults = opts.faults, .mac_given = opts.have_mac};
    if (opts.have_mac)
        memcpy(cfg.mac, opts.mac, 6);
    else
        sea__l3_random_mac(cfg.mac); /* (an AF_XDP device takes its interface's instead) */
    char why[200];
    int rc = sea__nstack_open(&stack, &cfg, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "the native network stack: %s", why);
        return rc;
    }
    sea_abort_source_init(&stack_stop);
    stack_run = sea__nstack_run(stack, &stack_stop);
    stack_running = true;
    return 0;
}

static sea_future closed(sea_future *in) {
    if (sea_future_failed(in))
        (void)sea_future_error(in); /* the device failed: reported by the stack's log line already */
    sea__nsock_stack_gone(stack);
    sea__nstack_close(stack);
    stack = NULL;
    return sea_ready();
}

/* The orderly stop, after the application's: the fiber ends, then what sockets remain are cut off and freed. */
static sea_future native_stopping(struct sea__smp *smp) {
    (void)smp;
    if (!stack_running)
        return sea_ready();
    stack_running = false;
    sea_abort_source_request(&stack_stop, SEA_ECANCELED);
    return sea_then_wrapped(stack_run, closed);
}

const struct sea__module sea__module_native = {
    .name = "native",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = native_configure,
    .start = native_start,
    .running = native_running,
    .stopping = native_stopping,
};
