/*
 * net/native/module.h - the native stack as a module (module.c): the
 * options that choose and configure it (--network-stack, --tap-device, --xdp-device,
 * --host-ipv4-addr, --netmask-ipv4-addr, --gw-ipv4-addr, --hw-address and
 * the device fault injector's), and the stack it runs when
 * --network-stack=native, which the socket layer uses (nsock.c).
 */
#ifndef SEA_NET_NATIVE_MODULE_H
#define SEA_NET_NATIVE_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/net.h>

#include "net/native/stack.h"

struct sea__module;

/* The options as parsed (valid from the configure step on). */
struct sea__native_options {
    bool native;          /* --network-stack=native */
    const char *tap;      /* --tap-device */
    const char *xdp;      /* --xdp-device, or NULL */
    uint32_t addr, netmask, gw; /* host order; 0 when not given */
    bool have_mac;        /* --hw-address given */
    uint8_t mac[6];
    struct sea__nstack_faults faults;
    bool no_steering;     /* --native-no-steering (testing) */
    bool offloads;        /* a TAP's offloads: on unless --native-no-offload, or faults are injected */
};

const struct sea__native_options *sea__native_options(void);

/* The stack this shard runs with --network-stack=native, or NULL. */
struct sea__nstack *sea__native_stack(void);
/* The running native stack, if addr is one it serves (IPv4, not loopback); else NULL: the kernel's sockets. */
struct sea__nstack *sea__native_for(const sea_addr *addr);

extern const struct sea__module sea__module_native;

#endif
