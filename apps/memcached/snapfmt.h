/*
 * snapfmt.h - the layout of a sea-memcached snapshot file, and the checks
 * that make sure a damaged one is never loaded as garbage.
 *
 * A snapshot is one file per shard, written on an orderly stop
 * (snapshot.c).  All numbers are little-endian.
 *
 *   header   64 bytes: "SEAMCSN1", version (1), shard, shard count,
 *            creation time (unix), item count, CRC-32C of the 40 bytes
 *            before it, zeros
 *   chunk    16 bytes: "CHNK", payload length, record count, CRC-32C of
 *            the payload; then the payload: records back to back
 *   ...
 *   end      16 bytes: "END!", chunk count, record count, CRC-32C of the
 *            12 bytes before it
 *
 * then zeros up to the write alignment, which the file's size excludes.
 *
 *   record   32 bytes: key length (1..250), item flags (base64 key),
 *            2 zero bytes, client flags, value length, 4 zero bytes,
 *            expiry (unix seconds; 0: never), CAS; then the key, then the
 *            value
 *
 * Every chunk carries its own checksum, so a reader finds a damaged chunk
 * before it stores anything from it, and the end record says how many
 * chunks and records a whole file has, so a torn file (cut short) is told
 * from a complete one.
 */
#ifndef MC_SNAPFMT_H
#define MC_SNAPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_SNAP_HEADER 64
#define MC_SNAP_CHUNK_HEADER 16
#define MC_SNAP_END 16
#define MC_SNAP_RECORD 32
/* A chunk's payload at most: one record of the largest item (-I is at most 1 GiB) and its header. */
#define MC_SNAP_CHUNK_MAX ((size_t)1 << 30)

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start). */
uint32_t mc_crc32c(uint32_t crc, const void *data, size_t len);

typedef struct mc_snap_header {
    uint32_t shard, nshards;
    int64_t created;
    uint64_t items;
} mc_snap_header;

void mc_snap_header_encode(unsigned char out[MC_SNAP_HEADER], const mc_snap_header *h);
/* 0, or -1 with a reason in err (not a snapshot, another version, a bad checksum, nonsense shard numbers). */
int mc_snap_header_decode(const unsigned char in[MC_SNAP_HEADER], mc_snap_header *h, char *err, size_t errlen);

/* A chunk header or the end record, told apart by their first 4 bytes. */
typedef struct mc_snap_frame {
    bool end;
    uint32_t len;     /* chunk: payload bytes */
    uint32_t count;   /* chunk: records; end: chunks */
    uint32_t records; /* end: records in all */
    uint32_t crc;     /* chunk: the payload's */
} mc_snap_frame;

void mc_snap_chunk_encode(unsigned char out[MC_SNAP_CHUNK_HEADER], uint32_t len, uint32_t count, uint32_t crc);
void mc_snap_end_encode(unsigned char out[MC_SNAP_END], uint32_t chunks, uint32_t records);
/* 0, or -1 with a reason in err. */
int mc_snap_frame_decode(const unsigned char in[MC_SNAP_CHUNK_HEADER], mc_snap_frame *f, char *err, size_t errlen);

typedef struct mc_snap_record {
    const char *key;
    size_t nkey;
    uint8_t iflags;
    uint32_t flags;
    const char *value;
    size_t nbytes;
    int64_t exptime; /* unix seconds; 0: never */
    uint64_t cas;
} mc_snap_record;

/* Bytes a record takes. */
static inline size_t mc_snap_record_size(size_t nkey, size_t nbytes) { return MC_SNAP_RECORD + nkey + nbytes; }
/* Writes r at dst (mc_snap_record_size bytes). */
void mc_snap_record_encode(char *dst, const mc_snap_record *r);
/*
 * Checks a chunk's payload: its checksum is crc, and it holds exactly
 * count well-formed records.  0, or -1 with a reason in err.
 */
int mc_snap_payload_check(const char *p, size_t len, uint32_t count, uint32_t crc, char *err, size_t errlen);
/* The record at p (of a checked payload) into *r; returns its size. */
size_t mc_snap_record_decode(const char *p, mc_snap_record *r);

#endif
