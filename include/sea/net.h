/*
 * sea/net.h - TCP and Unix-domain sockets on the reactor.
 *
 * Addresses are text ("127.0.0.1:1234", "[::1]:80", "unix:/run/app.sock",
 * "unix:@abstract") parsed into a sea_addr.  A listener accepts connections;
 * sea_connect makes one.  Both give a sea_socket as a boxed value (v.ptr): if
 * the future's value is dropped, the socket is closed, so a connection is
 * never leaked.
 *
 *     sea_listener *l;
 *     sea_addr a;
 *     sea_addr_parse("127.0.0.1:1234", &a);
 *     int rc = sea_listen(&a, NULL, &l);            // SO_REUSEADDR on, TCP_NODELAY on accepted sockets
 *     ...
 *     sea_future f = sea_accept(l);                 // v.ptr: sea_socket *
 *     sea_socket_read(s, buf, sizeof(buf))          // v.size bytes, 0 at end of stream
 *     sea_socket_write(s, buf, n)                   // resolves when all n bytes are sent
 *
 * Nothing blocks: a socket operation that cannot proceed waits for the
 * descriptor to become ready and retries.  One read and one write may be
 * pending on a socket at a time.  Failures are negative errno values:
 * -ECONNREFUSED, -ECONNRESET, -EPIPE, -ETIMEDOUT; operations pending when the
 * socket (or listener) is closed fail with SEA_ECANCELED.
 */
#ifndef SEA_NET_H
#define SEA_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A socket address of any family sea supports (IPv4, IPv6, Unix). */
typedef struct sea_addr {
    socklen_t len;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        struct sockaddr_storage ss;
    } u;
} sea_addr;

/*
 * Parses "A.B.C.D:PORT", "[IPV6]:PORT", "unix:PATH" or "unix:@NAME" (an
 * abstract socket).  Returns 0, or -EINVAL for anything else (no host name
 * lookups: that would block).
 */
int sea_addr_parse(const char *text, sea_addr *out);
/* Writes a in the same syntax into buf (NUL-terminated, truncated to len); returns the full length. */
int sea_addr_format(const sea_addr *a, char *buf, size_t len);
/* The port of an IPv4 or IPv6 address, 0 for others. */
uint16_t sea_addr_port(const sea_addr *a);

typedef struct sea_listen_options {
    int backlog;             /* 0: 1024 */
    bool no_reuse_address;   /* SO_REUSEADDR is on unless this is set */
    bool reuse_port;         /* SO_REUSEPORT: several listeners on one port */
} sea_listen_options;

typedef struct sea_listener sea_listener;
typedef struct sea_socket sea_socket;

/*
 * Listens on addr (opts may be NULL).  Returns 0 with *out set, or -errno
 * (-EADDRINUSE, -EACCES, ...).  A Unix path that exists is not removed.
 */
int sea_listen(const sea_addr *addr, const sea_listen_options *opts, sea_listener **out);
/*
 * Makes a listener of fd, a listening stream socket (one inherited, handed
 * over by systemd, or a dup of another listener's: several shards can
 * accept from one Unix socket that way).  The listener owns fd from now on
 * and makes it non-blocking.  0, -EINVAL (not a listening stream socket),
 * -ENOMEM, or the error of fcntl/getsockopt; fd is left alone on failure.
 */
int sea_listener_adopt(int fd, sea_listener **out);
/* The address the listener is bound to (the chosen port, for port 0). */
sea_addr sea_listener_addr(const sea_listener *l);
/*
 * The next connection: a boxed sea_socket * in v.ptr (closed if the value is
 * dropped).  One accept may be pending at a time (-EBUSY otherwise); -EINVAL
 * for a NULL listener; SEA_ECANCELED once the listener is closed.
 */
sea_future sea_accept(sea_listener *l) SEA_MUST_USE;
/* Stops listening; a pending accept fails with SEA_ECANCELED.  Frees l once nothing is pending. */
void sea_listener_close(sea_listener *l);

/*
 * Connects to addr, failing with -ETIMEDOUT after timeout ns (0: no limit),
 * -ECONNREFUSED, -ENETUNREACH...  Resolves with a boxed sea_socket *.
 */
sea_future sea_connect(const sea_addr *addr, sea_time timeout) SEA_MUST_USE;

/*
 * Makes a sea_socket of a connected stream socket fd (a socketpair end, a
 * descriptor inherited from elsewhere), made non-blocking; the socket owns fd
 * from now on.  0 or -ENOMEM (fd is then left alone).
 */
int sea_socket_adopt(int fd, sea_socket **out);

/*
 * The address of the other end (for UDP: unset), and of this end (asked of
 * the kernel at each call; all zero if it cannot say).
 */
sea_addr sea_socket_peer(const sea_socket *s);
sea_addr sea_socket_local(const sea_socket *s);
/* The descriptor, for options sea has no call for.  Do not close it. */
int sea_socket_fd(const sea_socket *s);
/* TCP_NODELAY (on by default for TCP) and SO_KEEPALIVE.  0 or -errno. */
int sea_socket_set_nodelay(sea_socket *s, bool on);
int sea_socket_set_keepalive(sea_socket *s, bool on);

/*
 * Reads up to len bytes into buf (which must stay valid until the future
 * resolves): v.size bytes, 0 at end of stream.  -EBUSY if a read is pending.
 */
sea_future sea_socket_read(sea_socket *s, void *buf, size_t len) SEA_MUST_USE;
/*
 * Writes all len bytes of buf (valid until the future resolves); resolves
 * when they are handed to the kernel.  -EPIPE / -ECONNRESET when the peer is
 * gone (no SIGPIPE); -EBUSY if a write is pending.
 */
sea_future sea_socket_write(sea_socket *s, const void *buf, size_t len) SEA_MUST_USE;
/*
 * The same for b's bytes, taking b's reference: on sea's own stack
 * (--network-stack=native) TCP keeps references to them until they are
 * acknowledged instead of copying them, and a segment goes to the device as
 * pieces of them; on the kernel's, b is written and released.  Resolves
 * once TCP (or the kernel) has them all; b's bytes must not be changed
 * afterwards by anyone still holding a reference to them.
 */
sea_future sea_socket_write_buf(sea_socket *s, sea_buf b) SEA_MUST_USE;
/*
 * Sends len bytes of the file fd from pos, without copying them through
 * user space (sendfile(2): the kernel passes page-cache pages to the
 * socket); resolves when they are all handed to the kernel.  It counts as
 * the socket's pending write.  A page that is not in the page cache is
 * read from the disk while the shard waits: send only what is cached (see
 * sea_file_cached and sea_file_prefetch in sea/file.h).  -EPIPE or
 * -ECONNRESET when the peer is gone (no SIGPIPE: the shard's thread blocks
 * it), -EIO if the file ends before len.
 */
sea_future sea_socket_sendfile(sea_socket *s, int fd, uint64_t pos, size_t len) SEA_MUST_USE;
/*
 * Reads what is there now, without waiting: the number of bytes (0 at end of
 * stream), -EAGAIN when nothing is there yet, or another -errno.  -EBUSY
 * while a read is pending.
 */
long sea_socket_try_read(sea_socket *s, void *buf, size_t len);
/*
 * The same, as a buffer of up to max bytes (> 0) for the caller to release:
 * on the native stack (--network-stack=native) the bytes as TCP holds them,
 * in the received frame's own memory for a large segment (no copy) or the
 * chunk small ones were gathered in, so one call may give fewer bytes than
 * are there; on the kernel's, a new buffer of max bytes read into and
 * trimmed.  The number of bytes, 0 at end of stream, -EAGAIN when nothing is
 * there yet, or another -errno; *out is empty but for a positive result.
 * The input stream of a socket (sea_input_stream_new) reads with it.
 */
long sea_socket_try_read_buf(sea_socket *s, size_t max, sea_buf *out);
/*
 * Resolves when s has something to read (or end of stream, or an error),
 * without reading it: wait first, then allocate the buffer, so an idle
 * connection holds no buffer.  Counts as the socket's pending read.
 */
sea_future sea_socket_wait_readable(sea_socket *s) SEA_MUST_USE;
/* shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.  0 or -errno. */
int sea_socket_shutdown(sea_socket *s, int how);
/*
 * Closes s: pending operations fail with SEA_ECANCELED, and s is freed once
 * they have.  Use s no more.  NULL, or a socket already closing, does nothing.
 */
void sea_socket_close(sea_socket *s);

/* ---- UDP ---- */

/*
 * A datagram socket bound to addr (port 0: any), as a sea_socket: close it
 * with sea_socket_close; sea_socket_local gives the bound address.
 * 0 or -errno.
 */
int sea_udp_bind(const sea_addr *addr, sea_socket **out);
/*
 * Sends one datagram of len bytes to to; resolves with v.size = len once the
 * kernel took it.  -EMSGSIZE if too large; -EBUSY if a send is pending.
 */
sea_future sea_udp_send(sea_socket *s, const sea_addr *to, const void *data, size_t len) SEA_MUST_USE;
/*
 * Receives one datagram into buf (a longer one is cut to len bytes) and its
 * sender into *from (may be NULL); v.size = bytes stored.  buf and from must
 * stay valid until the future resolves.
 */
sea_future sea_udp_recv(sea_socket *s, void *buf, size_t len, sea_addr *from) SEA_MUST_USE;

/* ---- statistics ---- */

/* Counters kept by each shard's sockets (also served as the sea_network_* metrics). */
typedef struct sea_net_stats {
    uint64_t bytes_received; /* bytes read from sockets (streams and datagrams) */
    uint64_t bytes_sent;     /* bytes written to sockets */
    uint64_t accepted;       /* connections accepted */
    uint64_t connected;      /* outgoing connections established */
    uint64_t sockets_open;   /* sockets (not listeners) open right now */
} sea_net_stats;

/* Copies the current shard's network counters into *out.  Returns 0, or SEA_ESHUTDOWN off a shard. */
int sea_net_stats_get(sea_net_stats *out);

#ifdef __cplusplus
}
#endif
#endif
