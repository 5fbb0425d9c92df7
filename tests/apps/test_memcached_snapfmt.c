/*
 * test_memcached_snapfmt.c - sea-memcached's snapshot format (snapfmt.c)
 * checked and fuzzed:
 *
 *     test_memcached_snapfmt [ITERATIONS [SEED]]
 *
 * CRC-32C against the standard check value ("123456789" -> 0xe3069283),
 * the hardware and software paths agreeing on every length and alignment;
 * a snapshot built in memory decoding back to the records it was built
 * from; then ITERATIONS mutations of it (bytes flipped, set, inserted,
 * removed, the file cut short) fed to the reader's checks the way
 * snapshot.c feeds them.  A mutation may be caught at any step, but
 * nothing may crash or read outside the buffer (run it under ASan), and a
 * payload that passes its check must decode into records that lie inside
 * it.  Runs briefly in `make test`; longer by hand with a larger count.
 */
#include "snapfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(c) \
    do { \
        if (!(c)) { \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            failures++; \
        } \
    } while (0)

static unsigned long long rng_state;

static unsigned rnd(unsigned n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return n ? (unsigned)((rng_state >> 33) % n) : 0;
}

/* A snapshot of `count` records in chunks of about `chunk` bytes, into a new buffer. */
static unsigned char *build(size_t *len_out, unsigned count, size_t chunk) {
    size_t cap = 1 << 20, len = 0;
    unsigned char *out = malloc(cap);
    mc_snap_header h = {.shard = 0, .nshards = 1, .created = 1700000000, .items = count};
    mc_snap_header_encode(out, &h);
    len = MC_SNAP_HEADER;
    char *payload = malloc(chunk + 4096);
    size_t plen = 0;
    uint32_t in_chunk = 0, chunks = 0;
    for (unsigned i = 0; i <= count; i++) {
        if (i == count || (plen && plen > chunk)) {
            if (plen) {
                if (len + MC_SNAP_CHUNK_HEADER + plen > cap)
                    out = realloc(out, cap = (cap + plen) * 2);
                mc_snap_chunk_encode(out + len, (uint32_t)plen, in_chunk, mc_crc32c(0, payload, plen));
                memcpy(out + len + MC_SNAP_CHUNK_HEADER, payload, plen);
                len += MC_SNAP_CHUNK_HEADER + plen;
                chunks++;
            }
            plen = 0;
            in_chunk = 0;
            if (i == count)
                break;
        }
        char key[32], value[600];
        int nkey = snprintf(key, sizeof(key), "key:%u", i);
        size_t nbytes = rnd(600);
        memset(value, 'a' + (int)(i % 26), nbytes);
        mc_snap_record r = {.key = key, .nkey = (size_t)nkey, .flags = i, .value = value, .nbytes = nbytes,
                            .exptime = i % 3 ? 0 : 1800000000 + i, .cas = 1000 + i};
        mc_snap_record_encode(payload + plen, &r);
        plen += mc_snap_record_size(r.nkey, r.nbytes);
        in_chunk++;
    }
    if (len + MC_SNAP_END > cap)
        out = realloc(out, cap = cap + MC_SNAP_END);
    mc_snap_end_encode(out + len, chunks, count);
    len += MC_SNAP_END;
    free(payload);
    *len_out = len;
    return out;
}

/*
 * Reads buf as snapshot.c does: the header, then frames and checked
 * payloads.  Returns the records decoded (-1 if the file is not whole);
 * *ok_records counts records of checked payloads.
 */
static long read_all(const unsigned char *buf, size_t len, unsigned *ok_records) {
    char why[256];
    *ok_records = 0;
    if (len < MC_SNAP_HEADER)
        return -1;
    mc_snap_header h;
    if (mc_snap_header_decode(buf, &h, why, sizeof(why)) < 0)
        return -1;
    size_t off = MC_SNAP_HEADER;
    uint32_t chunks = 0, records = 0;
    for (;;) {
        if (len - off < MC_SNAP_CHUNK_HEADER)
            return -1;
        mc_snap_frame f;
        if (mc_snap_frame_decode(buf + off, &f, why, sizeof(why)) < 0)
            return -1;
        off += MC_SNAP_CHUNK_HEADER;
        if (f.end)
            return f.count == chunks && f.records == records ? (long)records : -1;
        if (len - off < f.len)
            return -1;
        const char *p = (const char *)buf + off;
        if (mc_snap_payload_check(p, f.len, f.count, f.crc, why, sizeof(why)) < 0)
            return -1;
        size_t at = 0;
        for (uint32_t i = 0; i < f.count; i++) {
            mc_snap_record r;
            size_t n = mc_snap_record_decode(p + at, &r);
            CHECK(r.nkey >= 1 && r.nkey <= 250);
            CHECK(r.key >= p && r.value + r.nbytes <= p + f.len);
            at += n;
            (*ok_records)++;
        }
        CHECK(at == f.len);
        off += f.len;
        chunks++;
        records += f.count;
    }
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 2000;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261205;

    /* CRC-32C: the check value, and the fast and table paths agreeing (unaligned starts, every tail length). */
    CHECK(mc_crc32c(0, "123456789", 9) == 0xe3069283u);
    unsigned char bytes[300];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    uint32_t whole = mc_crc32c(0, bytes + 1, 299);
    CHECK(mc_crc32c(mc_crc32c(0, bytes + 1, 100), bytes + 101, 199) == whole); /* continuation */

    size_t len;
    unsigned char *good = build(&len, 3000, 64 * 1024);
    unsigned ok;
    CHECK(read_all(good, len, &ok) == 3000);
    CHECK(ok == 3000);
    /* Records decode back to what was built. */
    {
        mc_snap_frame f;
        char why[200];
        CHECK(mc_snap_frame_decode(good + MC_SNAP_HEADER, &f, why, sizeof(why)) == 0 && !f.end);
        mc_snap_record r;
        mc_snap_record_decode((const char *)good + MC_SNAP_HEADER + MC_SNAP_CHUNK_HEADER, &r);
        CHECK(r.nkey == 5 && memcmp(r.key, "key:0", 5) == 0 && r.flags == 0 && r.cas == 1000 &&
              r.exptime == 1800000000);
    }
    /* A file cut anywhere is not whole. */
    for (size_t cut = 0; cut < len; cut += 997)
        CHECK(read_all(good, cut, &ok) == -1);

    unsigned char *m = malloc(len + 64);
    long caught = 0;
    for (long it = 0; it < iterations; it++) {
        size_t mlen = len;
        memcpy(m, good, len);
        int edits = 1 + (int)rnd(4);
        for (int e = 0; e < edits && mlen > 0; e++) {
            size_t at = rnd((unsigned)mlen);
            switch (rnd(5)) {
            case 0: m[at] ^= (unsigned char)(1u << rnd(8)); break;
            case 1: m[at] = (unsigned char)rnd(256); break;
            case 2: /* a 32-bit field set to an extreme */
                if (at + 4 <= mlen) {
                    uint32_t v = rnd(2) ? 0xffffffffu : 0;
                    memcpy(m + at, &v, 4);
                }
                break;
            case 3: mlen = at; break; /* cut */
            default: /* a byte removed */
                memmove(m + at, m + at + 1, mlen - at - 1);
                mlen--;
                break;
            }
        }
        unsigned okr;
        long r = read_all(m, mlen, &okr);
        if (r != 3000)
            caught++;
        CHECK(okr <= 3000 + 64); /* checked payloads cannot invent many records */
    }
    printf("%ld mutations, %ld caught as damaged, %d failures\n", iterations, caught, failures);
    free(m);
    free(good);
    return failures ? 1 : 0;
}
