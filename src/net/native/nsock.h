/*
 * net/native/nsock.h - sockets and listeners over the native stack's TCP
 * (nsock.c): what sea_socket and sea_listener (net/socket.c) turn to when
 * --network-stack=native and the address is IPv4 but not loopback.
 *
 * The futures and errors are those of sea/net.h, so a caller cannot tell
 * the stacks apart.  Accepted and connected sockets are handed over as the
 * box that wrap makes of them (socket.c's sea_socket), so a dropped value
 * closes the connection, as with the kernel's sockets.
 */
#ifndef SEA_NET_NATIVE_NSOCK_H
#define SEA_NET_NATIVE_NSOCK_H

#include <sea/future.h>
#include <sea/net.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sea__nstack;
struct sea__nsock;
struct sea__nlisten;

/* Makes the owner's object (a boxed sea_socket) of ns; NULL if out of memory (ns is then closed by the caller). */
typedef sea_box *(*sea__nsock_wrap_fn)(struct sea__nsock *ns);

int sea__nlisten_open(struct sea__nstack *st, const sea_addr *addr, int backlog, sea__nsock_wrap_fn wrap,
                      struct sea__nlisten **out);
sea_addr sea__nlisten_addr(const struct sea__nlisten *l);
/* The next connection, as wrap's box; -EBUSY if an accept is pending, SEA_ECANCELED once closed. */
sea_future sea__nlisten_accept(struct sea__nlisten *l) SEA_MUST_USE;
void sea__nlisten_close(struct sea__nlisten *l);

/* An outgoing connection, as wrap's box: -ECONNREFUSED, -ETIMEDOUT (timeout ns, 0: none), -EADDRNOTAVAIL. */
sea_future sea__nsock_connect(struct sea__nstack *st, const sea_addr *addr, sea_time timeout,
                              sea__nsock_wrap_fn wrap) SEA_MUST_USE;

/* As sea_socket_read (wait_only: sea_socket_wait_readable), write, sendfile, try_read, shutdown, close. */
sea_future sea__nsock_read(struct sea__nsock *ns, void *buf, size_t len, bool wait_only) SEA_MUST_USE;
sea_future sea__nsock_write(struct sea__nsock *ns, const void *buf, size_t len) SEA_MUST_USE;
/* sea_socket_write_buf: TCP keeps references to b's bytes (until acknowledged), no copy; b's reference is taken. */
sea_future sea__nsock_write_buf(struct sea__nsock *ns, sea_buf b) SEA_MUST_USE;
sea_future sea__nsock_sendfile(struct sea__nsock *ns, int fd, uint64_t pos, size_t len) SEA_MUST_USE;
long sea__nsock_try_read(struct sea__nsock *ns, void *buf, size_t len);
/* sea_socket_try_read_buf: TCP's own buffers, without a copy. */
long sea__nsock_try_read_buf(struct sea__nsock *ns, size_t max, sea_buf *out);
int sea__nsock_shutdown(struct sea__nsock *ns, int how);
/* Pending operations fail with SEA_ECANCELED; the connection finishes its close in the stack. */
void sea__nsock_close(struct sea__nsock *ns);
sea_addr sea__nsock_peer(const struct sea__nsock *ns);
sea_addr sea__nsock_local(const struct sea__nsock *ns);
int sea__nsock_set_keepalive(struct sea__nsock *ns, bool on);

/* ---- UDP (sea_udp_bind, sea_udp_send, sea_udp_recv on the native stack) ---- */

/* A datagram socket on addr's port (0: a free one); addr must be the stack's address or 0.0.0.0. */
int sea__nsock_udp_bind(struct sea__nstack *st, const sea_addr *addr, struct sea__nsock **out);
sea_future sea__nsock_udp_send(struct sea__nsock *ns, const sea_addr *to, const void *data, size_t len) SEA_MUST_USE;
sea_future sea__nsock_udp_recv(struct sea__nsock *ns, void *buf, size_t len, sea_addr *from) SEA_MUST_USE;

/* The stack is stopping: every socket and listener on it is reset and cut off (their calls fail from now on). */
void sea__nsock_stack_gone(struct sea__nstack *st);

#endif
