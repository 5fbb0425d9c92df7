#!/usr/bin/env bash
# setup.sh - makes sure this Debian machine has what sea needs to build, test
# and benchmark; installs what is missing when run as root, otherwise names it.
set -euo pipefail

missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pc() { have_cmd pkg-config && pkg-config --exists "$1" 2>/dev/null; }

have_cmd cc || missing+=(gcc)
have_cmd cmake || missing+=(cmake)
have_cmd pkg-config || missing+=(pkgconf)
have_cmd python3 || missing+=(python3)      # the layering check (scripts/check_layers.py)
have_cmd nm || missing+=(binutils)
have_pc liburing || missing+=(liburing-dev)
have_pc openssl || missing+=(libssl-dev)   # TLS (src/net/tls.c)
have_pc libnghttp2 || missing+=(libnghttp2-dev)  # HTTP/2 framing and HPACK (src/http/h2.c)
have_cmd openssl || missing+=(openssl)    # the TLS tests make their certificates with it
have_pc libuv || missing+=(libuv1-dev)    # the benchmarks' reference event loop
have_pc jemalloc || missing+=(libjemalloc-dev)  # bench_malloc's reference allocators
[ -e /usr/include/mimalloc.h ] || missing+=(libmimalloc-dev)
# sea-memcached's tests compare it with the real memcached, and drive it with real clients.
[ -x /usr/bin/memcached ] || missing+=(memcached)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pymemcache' 2>/dev/null || missing+=(python3-pymemcache)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pylibmc' 2>/dev/null || missing+=(python3-pylibmc)
have_cmd memcstat || missing+=(libmemcached-tools)
[ -x /usr/sbin/nutcracker ] || have_cmd nutcracker || missing+=(nutcracker)  # twemproxy, for the pool test
have_cmd fio || missing+=(fio)  # bench_disk's reference: the same reads and writes through fio's io_uring engine
# bench_http runs sea-httpd against nginx (one worker), loaded by wrk; the HTTP client test fetches from nginx.
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
have_cmd wrk || missing+=(wrk)
# The HTTP tests fetch from sea-httpd with curl; the differential parser test runs Node's HTTP parser.
have_cmd curl || missing+=(curl)
have_cmd node || missing+=(nodejs)
# HTTP/2: the tests talk to the server with nghttp and h2load (nghttp2-client); bench_http compares with h2o.
have_cmd h2load || missing+=(nghttp2-client)
# The native stack's test (native.ping) has the kernel's ping talk to sea's own stack on a TAP device.
have_cmd ping || missing+=(iputils-ping)
[ -x /usr/sbin/ethtool ] || missing+=(ethtool) # the AF_XDP tests and bench turn off the veth peer's checksum offload
[ -x /usr/bin/h2o ] || missing+=(h2o)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && have_cmd apt-get; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi

echo "setup: missing Debian packages: ${missing[*]}" >&2
echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
