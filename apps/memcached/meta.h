/*
 * meta.h - memcached's meta commands (mg, ms, md, ma, mn, me): parsed on the
 * connection's shard, run on the key's.
 *
 * The meta commands share the text protocol's connection and line syntax
 * (text.c hands them here).  Their flags decide both what a command does and
 * what its answer echoes, in the order the client sent them, so the parser
 * checks and decodes them once (mc_meta) and keeps the flag tokens for the
 * owner shard, which walks them again to build the answer next to the item.
 */
#ifndef MC_META_H
#define MC_META_H

#include "cache.h"
#include "out.h"
#include "text.h"

/*
 * Parses a meta command whose line is buf[0..line_len) and which takes
 * `consumed` bytes without its data block (ms reads that from buf[0..len)).
 * Returns r->kind as mc_text_parse does.
 */
mc_kind mc_meta_parse(const char *buf, size_t len, size_t line_len, size_t consumed, size_t max_item,
                      mc_request *r);

/* Runs a parsed mg, ms, md, ma or me (r->meta.cmd) against the cache that owns its key, and appends the answer. */
void mc_meta_run(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now);

/* Base64 (RFC 4648, padded) as memcached's: 0 if src is not valid base64 or does not fit in cap. */
size_t mc_base64_decode(const char *src, size_t len, char *dst, size_t cap);
size_t mc_base64_encode(const char *src, size_t len, char *dst, size_t cap);

/* The slab class and total size memcached 1.6.18 would give an item (me, stats slabs and items). */
unsigned mc_slab_class(size_t nkey, size_t nbytes, size_t *total);

#endif
