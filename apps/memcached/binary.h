/*
 * binary.h - memcached's binary protocol: one request at a time out of a
 * connection's receive buffer, and the answers' packets.
 *
 * The binary protocol is deprecated since memcached 1.6 but still what
 * libmemcached (and so pylibmc) speak in binary mode.  A connection whose
 * first byte is 0x80 speaks it for its whole life, as in memcached.
 * mc_bin_parse() is stateless like mc_text_parse(): it fills an mc_request
 * (proto MC_PROTO_BINARY) whose key and value point into the buffer.
 */
#ifndef MC_BINARY_H
#define MC_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define MC_BIN_REQ_MAGIC 0x80
#define MC_BIN_RES_MAGIC 0x81
#define MC_BIN_HEADER 24

/* Opcodes memcached 1.6.18 serves (protocol_binary.h). */
enum {
    MC_BIN_GET = 0x00, MC_BIN_SET = 0x01, MC_BIN_ADD = 0x02, MC_BIN_REPLACE = 0x03, MC_BIN_DELETE = 0x04,
    MC_BIN_INCREMENT = 0x05, MC_BIN_DECREMENT = 0x06, MC_BIN_QUIT = 0x07, MC_BIN_FLUSH = 0x08, MC_BIN_GETQ = 0x09,
    MC_BIN_NOOP = 0x0a, MC_BIN_VERSION = 0x0b, MC_BIN_GETK = 0x0c, MC_BIN_GETKQ = 0x0d, MC_BIN_APPEND = 0x0e,
    MC_BIN_PREPEND = 0x0f, MC_BIN_STAT = 0x10, MC_BIN_SETQ = 0x11, MC_BIN_ADDQ = 0x12, MC_BIN_REPLACEQ = 0x13,
    MC_BIN_DELETEQ = 0x14, MC_BIN_INCREMENTQ = 0x15, MC_BIN_DECREMENTQ = 0x16, MC_BIN_QUITQ = 0x17,
    MC_BIN_FLUSHQ = 0x18, MC_BIN_APPENDQ = 0x19, MC_BIN_PREPENDQ = 0x1a, MC_BIN_TOUCH = 0x1c, MC_BIN_GAT = 0x1d,
    MC_BIN_GATQ = 0x1e, MC_BIN_SASL_LIST_MECHS = 0x20, MC_BIN_SASL_AUTH = 0x21, MC_BIN_SASL_STEP = 0x22,
    MC_BIN_GATK = 0x23, MC_BIN_GATKQ = 0x24,
};

/* Response statuses, each with memcached's message (mc_bin_status_text). */
enum {
    MC_BIN_OK = 0x00, MC_BIN_KEY_ENOENT = 0x01, MC_BIN_KEY_EEXISTS = 0x02, MC_BIN_E2BIG = 0x03,
    MC_BIN_EINVAL = 0x04, MC_BIN_NOT_STORED = 0x05, MC_BIN_DELTA_BADVAL = 0x06, MC_BIN_UNKNOWN_COMMAND = 0x81,
    MC_BIN_ENOMEM = 0x82,
};

/*
 * Parses the next binary request in buf[0..len): as mc_text_parse.  Errors
 * are requests too, with r->status and r->error (the message) set: a bad
 * magic closes silently, a malformed header answers and closes, an unknown
 * opcode answers and skips its body, as memcached does.
 */
mc_kind mc_bin_parse(const char *buf, size_t len, size_t max_item, mc_request *r);

/* memcached's message for an error status. */
const char *mc_bin_status_text(uint16_t status);

/* Writes a 24-byte response header for r into h. */
void mc_bin_header(char h[MC_BIN_HEADER], const mc_request *r, uint16_t status, uint8_t extlen, uint16_t keylen,
                   uint32_t bodylen, uint64_t cas);

#endif
