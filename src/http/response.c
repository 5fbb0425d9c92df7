/*
 * response.c - building a response: status, headers, a body in memory, and
 * its head in HTTP/1.1 syntax; HTTP dates (the Date header, cached per
 * second, and the dates of conditional requests).
 *
 * A connection keeps one response and reuses its buffers from request to
 * request, so answering a small request allocates nothing once the
 * connection has warmed up.
 */
#include "http/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int sea__http_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n) {
    if (*cap - *len < n) {
        size_t want = *cap ? *cap : 256;
        while (want - *len < n)
            want *= 2;
        char *p = realloc(*buf, want);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = want;
    }
    if (n && data) /* NULL data: only make room (the caller writes it) */
        memcpy(*buf + *len, data, n);
    *len += n;
    return 0;
}

void sea__http_response_reset(sea_http_response *resp, struct sea__http_conn *conn) {
    resp->conn = conn;
    resp->status = 200;
    resp->close = false;
    resp->head_only = false;
    resp->has_type = false;
    resp->streaming = false;
    resp->head_sent = false;
    resp->stream_len = 0;
    resp->body_sent = 0;
    resp->hdrs_len = 0;
    resp->body_len = 0;
    resp->trailers_len = 0;
    sea_buf_release(&resp->body_buf);
    resp->stream = NULL;
    /* A connection's buffers shrink back after a large response. */
    if (resp->body_cap > 64 * 1024) {
        free(resp->body);
        resp->body = NULL;
        resp->body_cap = 0;
    }
}

void sea__http_response_free(sea_http_response *resp) {
    free(resp->hdrs);
    free(resp->body);
    free(resp->trailers);
    sea_buf_release(&resp->body_buf);
    memset(resp, 0, sizeof(*resp));
}

const char *sea_http_reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

void sea_http_response_set_status(sea_http_response *resp, int status) {
    if (!resp->head_sent && status >= 100 && status <= 999)
        resp->status = status;
}

int sea_http_response_status(const sea_http_response *resp) {
    return resp->status;
}

/* Header names the server writes itself. */
static bool reserved(const char *name) {
    static const char *const names[] = {"date", "server", "content-length", "transfer-encoding", "connection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

static int check_field(const char *name, const char *value) {
    if (!name || !*name || !value)
        return -EINVAL;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (!sea__http_tchar[*c])
            return -EINVAL;
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return -EINVAL;
    return 0;
}

static int append_field(char **buf, size_t *len, size_t *cap, const char *name, const char *value) {
    size_t n = strlen(name), v = strlen(value), old = *len;
    int rc = sea__http_append(buf, len, cap, NULL, n + v + 4);
    if (rc < 0)
        return rc;
    char *p = *buf + old;
    memcpy(p, name, n);
    p[n] = ':';
    p[n + 1] = ' ';
    memcpy(p + n + 2, value, v);
    p[n + 2 + v] = '\r';
    p[n + 3 + v] = '\n';
    return 0;
}

int sea_http_response_add_header(sea_http_response *resp, const char *name, const char *value) {
    int rc = check_field(name, value);
    if (rc < 0)
        return rc;
    if (resp->head_sent)
        return -EALREADY;
    if (reserved(name))
        return -EPERM;
    if (strcasecmp(name, "content-type") == 0)
        resp->has_type = true;
    return append_field(&resp->hdrs, &resp->hdrs_len, &resp->hdrs_cap, name, value);
}

int sea_http_response_set_type(sea_http_response *resp, const char *type) {
    return sea_http_response_add_header(resp, "Content-Type", type);
}

int sea_http_response_add_trailer(sea_http_response *resp, const char *name, const char *value) {
    int rc = check_field(name, value);
    if (rc < 0)
        return rc;
    if (reserved(name))
        return -EPERM;
    return append_field(&resp->trailers, &resp->trailers_len, &resp->trailers_cap, name, value);
}

int sea_http_response_write(sea_http_response *resp, const void *data, size_t len) {
    if (resp->streaming)
        return -EALREADY;
    if (resp->body_buf.len) {
        /* After set_body: keep the order by copying that buffer in first. */
        sea_buf b = resp->body_buf;
        resp->body_buf = SEA_BUF_EMPTY;
        int rc = sea__http_append(&resp->body, &resp->body_len, &resp->body_cap, b.data, b.len);
        sea_buf_release(&b);
        if (rc < 0)
            return rc;
    }
    return sea__http_append(&resp->body, &resp->body_len, &resp->body_cap, data, len);
}

int sea_http_response_printf(sea_http_response *resp, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return sea_http_response_write(resp, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = sea_http_response_write(resp, big, (size_t)n);
    free(big);
    return rc;
}

int sea_http_response_set_body(sea_http_response *resp, sea_buf b) {
    if (resp->streaming) {
        sea_buf_release(&b);
        return -EALREADY;
    }
    if (resp->body_buf.len) {
        int rc = sea_http_response_write(resp, b.data, b.len);
        sea_buf_release(&b);
        return rc;
    }
    sea_buf_release(&resp->body_buf);
    resp->body_buf = b;
    return 0;
}

int sea_http_response_error(sea_http_response *resp, int status, const char *why) {
    if (resp->streaming)
        return -EALREADY;
    resp->body_len = 0;
    sea_buf_release(&resp->body_buf);
    sea_http_response_set_status(resp, status);
    if (!resp->has_type) {
        int rc = sea_http_response_set_type(resp, "text/plain; charset=utf-8");
        if (rc < 0)
            return rc;
    }
    return sea_http_response_printf(resp, "%d %s%s%s\n", status, sea_http_reason(status), why ? ": " : "",
                                    why ? why : "");
}

void sea_http_response_close(sea_http_response *resp) {
    resp->close = true;
}

/* ---- the head ---- */

static char *put_uint(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

int sea__http_response_head(sea_http_response *resp, const struct sea__http_cfg *cfg, int version,
                            int64_t body_len, char **out, size_t *out_len, size_t *out_cap) {
    const char *reason = sea_http_reason(resp->status);
    const char *date = sea__http_date_line();
    size_t need = 64 + strlen(reason) + strlen(cfg->server_line) + strlen(date) + resp->hdrs_len + 80;
    size_t start = *out_len;
    int rc = sea__http_append(out, out_len, out_cap, NULL, need);
    if (rc < 0)
        return rc;
    char *p = *out + start;
    memcpy(p, "HTTP/1.1 ", 9);
    p = put_uint(p + 9, (uint64_t)resp->status);
    *p++ = ' ';
    size_t n = strlen(reason);
    memcpy(p, reason, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    n = strlen(cfg->server_line);
    memcpy(p, cfg->server_line, n);
    p += n;
    n = strlen(date);
    memcpy(p, date, n);
    p += n;
    if (resp->hdrs_len) {
        memcpy(p, resp->hdrs, resp->hdrs_len);
        p += resp->hdrs_len;
    }
    bool no_body = resp->status < 200 || resp->status == 204 || resp->status == 304;
    if (!no_body) {
        if (body_len >= 0) {
            if (body_len > 0 && !resp->has_type) {
                static const char type[] = "Content-Type: application/octet-stream\r\n";
                memcpy(p, type, sizeof(type) - 1);
                p += sizeof(type) - 1;
            }
            memcpy(p, "Content-Length: ", 16);
            p = put_uint(p + 16, (uint64_t)body_len);
            *p++ = '\r';
            *p++ = '\n';
        } else if (version == 11) {
            static const char te[] = "Transfer-Encoding: chunked\r\n";
            memcpy(p, te, sizeof(te) - 1);
            p += sizeof(te) - 1;
        } else {
            resp->close = true; /* an HTTP/1.0 body of unknown length ends with the connection */
        }
    }
    if (resp->close) {
        memcpy(p, "Connection: close\r\n", 19);
        p += 19;
    } else if (version == 10) {
        memcpy(p, "Connection: keep-alive\r\n", 24);
        p += 24;
    }
    *p++ = '\r';
    *p++ = '\n';
    *out_len = (size_t)(p - *out);
    return 0;
}

/* ---- dates ---- */

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static char *two(char *p, int v) {
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

void sea__http_format_date(long t, char out[30]) {
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    /* IMF-fixdate, by hand: strftime's names follow the locale */
    char *p = out;
    memcpy(p, days[tm.tm_wday], 3);
    p[3] = ',';
    p[4] = ' ';
    p = two(p + 5, tm.tm_mday);
    *p++ = ' ';
    memcpy(p, months[tm.tm_mon], 3);
    p[3] = ' ';
    int year = tm.tm_year + 1900;
    p = two(two(p + 4, year / 100), year % 100);
    *p++ = ' ';
    p = two(p, tm.tm_hour);
    *p++ = ':';
    p = two(p, tm.tm_min);
    *p++ = ':';
    p = two(p, tm.tm_sec);
    memcpy(p, " GMT", 5);
}

const char *sea__http_date_line(void) {
    static __thread long cached_sec = -1;
    static __thread char line[48];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != cached_sec) {
        char d[30];
        sea__http_format_date(ts.tv_sec, d);
        snprintf(line, sizeof(line), "Date: %s\r\n", d);
        cached_sec = ts.tv_sec;
    }
    return line;
}

static int month_of(const char *s) {
    for (int m = 0; m < 12; m++)
        if (strncmp(s, months[m], 3) == 0)
            return m;
    return -1;
}

long sea__http_parse_date(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    char mon[4] = "", wd[16] = "", tz[4] = "";
    int n = 0;
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, tz, &n) == 8 &&
        !s[n] && strcmp(tz, "GMT") == 0) {
        tm.tm_year -= 1900;
    } else if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wd, &tm.tm_mday, mon, &tm.tm_year,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, tz, &n) == 8 &&
               !s[n] && strcmp(tz, "GMT") == 0) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years: RFC 9110 section 5.6.7) */
        if (tm.tm_year < 70)
            tm.tm_year += 100;
    } else if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                      &tm.tm_year, &n) == 7 &&
               !s[n]) {
        tm.tm_year -= 1900; /* asctime: Sun Nov  6 08:49:37 1994 */
    } else {
        return -1;
    }
    tm.tm_mon = month_of(mon);
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    return (long)timegm(&tm);
}
