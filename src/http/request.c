/*
 * request.c - parsing an HTTP/1.x request head (see request.h): one pass,
 * byte by byte, through a small state machine that refuses anything RFC
 * 9112 does not allow, as early as it can tell.
 */
#include "http/request.h"

#include <stdbool.h>
#include <string.h>

#define METHOD_MAX 32

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int sea__http_request_parse(const char *buf, size_t len, struct sea__http_request *req) {
    enum { METHOD, TARGET, VERSION, LF, LINE_START, NAME, VALUE, END_LF } state = METHOD;
    static const char version[] = "HTTP/1.";
    memset(req, 0, sizeof(*req));
    size_t start = 0; /* where the current request-line part began */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        const char *bad = NULL;
        switch (state) {
        case METHOD:
            if (c == ' ' && i > 0) {
                req->method = buf;
                req->method_len = i;
                start = i + 1;
                state = TARGET;
            } else if (!is_tchar(c)) {
                bad = "malformed method";
            } else if (i == METHOD_MAX) {
                bad = "method too long";
            }
            break;
        case TARGET:
            if (c == ' ' && i > start) {
                req->target = buf + start;
                req->target_len = i - start;
                start = i + 1;
                state = VERSION;
            } else if (c <= 0x20 || c >= 0x7f) {
                bad = "malformed request target";
            }
            break;
        case VERSION: {
            size_t k = i - start;
            if (k < sizeof(version) - 1) {
                if (c != (unsigned char)version[k])
                    bad = "not an HTTP/1.x request";
            } else if (k == sizeof(version) - 1) {
                if (c != '0' && c != '1')
                    bad = "unsupported HTTP version";
                req->minor_version = c - '0';
            } else if (c == '\r') {
                state = LF;
            } else if (c == '\n') {
                state = LINE_START;
            } else {
                bad = "malformed request line";
            }
            break;
        }
        case LF:
            if (c != '\n')
                bad = "CR not followed by LF";
            state = LINE_START;
            break;
        case LINE_START:
            if (c == '\r') {
                state = END_LF;
            } else if (c == '\n') {
                req->head_len = i + 1;
                return SEA__HTTP_DONE;
            } else if (c == ' ' || c == '\t') {
                bad = "obsolete header line folding";
            } else if (!is_tchar(c)) {
                bad = "malformed header name";
            } else {
                state = NAME;
            }
            break;
        case NAME:
            if (c == ':')
                state = VALUE;
            else if (!is_tchar(c))
                bad = "malformed header name";
            break;
        case VALUE:
            if (c == '\r')
                state = LF;
            else if (c == '\n')
                state = LINE_START;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
                bad = "control character in a header value";
            break;
        case END_LF:
            if (c != '\n') {
                bad = "CR not followed by LF";
                break;
            }
            req->head_len = i + 1;
            return SEA__HTTP_DONE;
        }
        if (bad) {
            req->error = bad;
            return SEA__HTTP_BAD;
        }
    }
    return SEA__HTTP_MORE;
}
