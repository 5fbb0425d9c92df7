/*
 * metrics.c - the per-shard metric registry (sea/metrics.h): registration,
 * a shard's snapshot of its values, and the Prometheus text that merges
 * every shard's snapshot.
 *
 * Each shard's registry is its SEA__SLOT_METRICS, made and freed by the
 * metrics module (first of the core's modules to start, last to stop, so
 * every other module can register its own metrics in its shard_start).
 * A registry holds families (one per metric name, with its type and help)
 * in an array sorted by name, so a snapshot comes out in name order without
 * sorting; each family lists its series (one per label set).  A series'
 * labels are validated, sorted and escaped once, at registration, with the
 * shard="N" label already in place: rendering a sample is then a copy and a
 * number.
 *
 * Collecting never reads another shard's memory: the collecting shard sends
 * every shard a message, each renders its own series into a snapshot (text
 * per family, in name order) and sends it back, and the collecting shard
 * merges the snapshots by name, so that each name gets one # HELP / # TYPE
 * header followed by the samples of every shard, in shard order.
 */
#include "core/metrics.h"

#include <sea/metrics.h>
#include <sea/smp.h>
#include <sea/when.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/list.h"
#include "base/panic.h"
#include "core/module.h"
#include "core/shard.h"

enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };
static const char *const kind_names[] = {"counter", "gauge", "histogram"};

struct family {
    char *name;
    char *help; /* escaped for a # HELP line; NULL: none */
    uint8_t kind;
    struct sea__list series; /* its struct sea__metric, in registration order */
};

/* One series.  Every public handle (sea_counter *, sea_gauge *, ...) points to one of these. */
struct sea__metric {
    struct sea__metric_head head; /* first, so the inline functions in sea/metrics.h reach it */
    struct sea__metrics *reg;
    struct family *fam;
    struct sea__link link;   /* its family's series */
    char *labels;            /* escaped pairs sorted by name, shard included: method="get",shard="0" */
    sea_metric_read_fn read; /* NULL: the value is in head */
    void *arg;
    /* Histograms; the count is head.sea__count. */
    size_t nbounds;
    double *bounds;
    uint64_t *buckets;       /* nbounds + 1 counts, not cumulative; the last is above every bound */
    double sum;
};

struct sea__metrics {
    unsigned shard;
    struct family **fams; /* sorted by name (strcmp) */
    size_t nfams, cap;
};

/* ---- growable text (a failed allocation sticks, and is checked once at the end) ---- */

struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

static bool text_reserve(struct text *t, size_t more) {
    if (t->failed)
        return false;
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) {
        t->failed = true;
        return false;
    }
    t->p = p;
    t->cap = cap;
    return true;
}

static void text_append(struct text *t, const char *s, size_t n) {
    if (!text_reserve(t, n))
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s) {
    text_append(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *t, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        text_append(t, small, (size_t)n);
        return;
    }
    if (!text_reserve(t, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Appends s, escaping backslash and newline (and the double quote too, inside a label value). */
static void text_escaped(struct text *t, const char *s, bool quote) {
    for (; *s; s++) {
        if (*s == '\\')
            text_append(t, "\\\\", 2);
        else if (*s == '\n')
            text_append(t, "\\n", 2);
        else if (*s == '"' && quote)
            text_append(t, "\\\"", 2);
        else
            text_append(t, s, 1);
    }
}

/*
 * v as Prometheus reads it: NaN, +Inf, -Inf, or the shortest of %.15g,
 * %.16g and %.17g that reads back as exactly v (0.1 stays "0.1").
 */
static void text_double(struct text *t, double v) {
    if (isnan(v)) {
        text_puts(t, "NaN");
        return;
    }
    if (isinf(v)) {
        text_puts(t, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    text_puts(t, buf);
}

/* ---- validation ---- */

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; without ':' for label names. */
static bool valid_name(const char *s, bool colon) {
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += n + 1;
    }
    return true;
}

/*
 * The label text of a series: labels validated, sorted by name, values
 * escaped, with shard="N" in its sorted place.  0 with *out malloc'ed, or
 * -EINVAL / -ENOMEM.
 */
static int labels_build(const sea_metric_label *labels, unsigned shard, bool histogram, char **out) {
    const sea_metric_label *sorted[SEA_METRIC_LABELS_MAX];
    size_t n = 0;
    for (; labels && labels[n].name; n++) {
        const sea_metric_label *l = &labels[n];
        if (n == SEA_METRIC_LABELS_MAX || !valid_name(l->name, false) || strncmp(l->name, "__", 2) == 0 ||
            strcmp(l->name, "shard") == 0 || (histogram && strcmp(l->name, "le") == 0) || !l->value ||
            !valid_utf8(l->value))
            return -EINVAL;
        /* Insertion sort: a handful of labels. */
        size_t j = n;
        while (j > 0 && strcmp(sorted[j - 1]->name, l->name) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        if (j > 0 && strcmp(sorted[j - 1]->name, l->name) == 0)
            return -EINVAL; /* the same label twice */
        sorted[j] = l;
    }
    struct text t = {0};
    bool shard_done = false;
    for (size_t i = 0; i <= n; i++) {
        if (!shard_done && (i == n || strcmp(sorted[i]->name, "shard") > 0)) {
            text_printf(&t, "%sshard=\"%u\"", t.len ? "," : "", shard);
            shard_done = true;
        }
        if (i == n)
            break;
        text_printf(&t, "%s%s=\"", t.len ? "," : "", sorted[i]->name);
        text_escaped(&t, sorted[i]->value, true);
        text_puts(&t, "\"");
    }
    if (t.failed) {
        free(t.p);
        return -ENOMEM;
    }
    *out = t.p;
    return 0;
}

/* ---- the registry ---- */

/* strcmp(s, the concatenation of a[0..alen) and b), without building it. */
static int cmp_concat(const char *s, const char *a, size_t alen, const char *b) {
    for (size_t i = 0; i < alen; i++, s++)
        if (*s != a[i]) /* also where s ends first */
            return (unsigned char)*s - (unsigned char)a[i];
    return strcmp(s, b);
}

/* The family called a[0..alen) + b, or NULL; *pos (if pos) receives where it is or would go. */
static struct family *family_find(const struct sea__metrics *r, const char *a, size_t alen, const char *b,
                                  size_t *pos) {
    size_t lo = 0, hi = r->nfams;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_concat(r->fams[mid]->name, a, alen, b);
        if (c == 0) {
            if (pos)
                *pos = mid;
            return r->fams[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return NULL;
}

static const char *const histogram_suffixes[] = {"_bucket", "_sum", "_count"};

/* True if a series called name would be rendered under another family's name (histograms' suffixes). */
static bool name_clashes(const struct sea__metrics *r, const char *name, int kind) {
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof(histogram_suffixes) / sizeof(histogram_suffixes[0]); i++) {
        const char *suffix = histogram_suffixes[i];
        size_t sl = strlen(suffix);
        /* name is X_sum, and X is a histogram. */
        if (len > sl && strcmp(name + len - sl, suffix) == 0) {
            const struct family *f = family_find(r, name, len - sl, "", NULL);
            if (f && f->kind == KIND_HISTOGRAM)
                return true;
        }
        /* name is a histogram, and name_sum exists. */
        if (kind == KIND_HISTOGRAM && family_find(r, name, len, suffix, NULL))
            return true;
    }
    return false;
}

static void family_free(struct family *f) {
    free(f->name);
    free(f->help);
    free(f);
}

static void metric_free(struct sea__metric *m) {
    free(m->labels);
    free(m->bounds);
    free(m->buckets);
    free(m);
}

/* What a registration asks for. */
struct registration {
    const char *name;
    const char *help;
    const sea_metric_label *labels;
    int kind;
    sea_metric_read_fn read;
    void *arg;
    const double *bounds;
    size_t nbounds;
};

static int metric_register(struct sea__metrics *r, const struct registration *g, struct sea__metric **out) {
    if (!r)
        return SEA_ESHUTDOWN;
    if (!valid_name(g->name, true) || (g->help && !valid_utf8(g->help)))
        return -EINVAL;
    if (g->kind == KIND_HISTOGRAM) {
        if (!g->bounds || g->nbounds == 0 || g->nbounds > SEA_HISTOGRAM_BUCKETS_MAX)
            return -EINVAL;
        for (size_t i = 0; i < g->nbounds; i++)
            if (!isfinite(g->bounds[i]) || (i > 0 && !(g->bounds[i] > g->bounds[i - 1])))
                return -EINVAL;
    }
    char *labels;
    int rc = labels_build(g->labels, r->shard, g->kind == KIND_HISTOGRAM, &labels);
    if (rc < 0)
        return rc;
    size_t pos;
    struct family *f = family_find(r, g->name, strlen(g->name), "", &pos);
    if (f) {
        rc = f->kind != g->kind ? -EEXIST : 0;
        sea__list_for_each(l, &f->series) {
            const struct sea__metric *m = sea__list_entry(l, struct sea__metric, link);
            if (rc != 0)
                break;
            if (strcmp(m->labels, labels) == 0)
                rc = -EEXIST;
        }
    } else if (name_clashes(r, g->name, g->kind)) {
        rc = -EEXIST;
    }
    if (rc < 0) {
        free(labels);
        return rc;
    }
    struct sea__metric *m = calloc(1, sizeof(*m));
    if (!m) {
        free(labels);
        return -ENOMEM;
    }
    m->reg = r;
    m->labels = labels;
    m->read = g->read;
    m->arg = g->arg;
    if (g->kind == KIND_HISTOGRAM) {
        m->nbounds = g->nbounds;
        m->bounds = malloc(g->nbounds * sizeof(double));
        m->buckets = calloc(g->nbounds + 1, sizeof(uint64_t));
        if (!m->bounds || !m->buckets) {
            metric_free(m);
            return -ENOMEM;
        }
        memcpy(m->bounds, g->bounds, g->nbounds * sizeof(double));
    }
    if (!f) {
        if (r->nfams == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 64;
            struct family **fams = realloc(r->fams, cap * sizeof(*fams));
            if (!fams) {
                metric_free(m);
                return -ENOMEM;
            }
            r->fams = fams;
            r->cap = cap;
        }
        f = calloc(1, sizeof(*f));
        if (f) {
            f->name = strdup(g->name);
            f->kind = (uint8_t)g->kind;
            if (g->help && *g->help) {
                struct text h = {0};
                text_escaped(&h, g->help, false);
                f->help = h.p;
                if (h.failed) {
                    free(h.p);
                    f->help = NULL;
                    free(f->name);
                    f->name = NULL;
                }
            }
        }
        if (!f || !f->name) {
            if (f)
                family_free(f);
            metric_free(m);
            return -ENOMEM;
        }
        memmove(&r->fams[pos + 1], &r->fams[pos], (r->nfams - pos) * sizeof(*r->fams));
        r->fams[pos] = f;
        r->nfams++;
    }
    m->fam = f;
    sea__list_push_back(&f->series, &m->link);
    *out = m;
    return 0;
}

/* Unlinks m, drops its family if it was the last series, and frees it. */
static void metric_unregister(struct sea__metric *m) {
    struct family *f = m->fam;
    struct sea__metrics *r = m->reg;
    sea__list_remove(&f->series, &m->link);
    metric_free(m);
    if (!sea__list_empty(&f->series))
        return;
    size_t pos;
    if (family_find(r, f->name, strlen(f->name), "", &pos) == f) {
        memmove(&r->fams[pos], &r->fams[pos + 1], (r->nfams - pos - 1) * sizeof(*r->fams));
        r->nfams--;
    }
    family_free(f);
}

static struct sea__metrics *current_registry(void) {
    struct sea__shard *s = sea__shard_current;
    return s ? s->slot[SEA__SLOT_METRICS] : NULL;
}

/* ---- the public registration calls ---- */

/* Every handle type is a struct sea__metric seen through another name. */
#define HANDLE(type, m) ((type *)(void *)(m))

int sea_counter_register(const char *name, const char *help, const sea_metric_label *labels, sea_counter **out) {
    struct registration g = {.name = name, .help = help, .labels = labels, .kind = KIND_COUNTER};
    struct sea__metric *m = NULL;
    int rc = out ? metric_register(current_registry(), &g, &m) : -EINVAL;
    if (out)
        *out = HANDLE(sea_counter, m);
    return rc;
}

int sea_gauge_register(const char *name, const char *help, const sea_metric_label *labels, sea_gauge **out) {
    struct registration g = {.name = name, .help = help, .labels = labels, .kind = KIND_GAUGE};
    struct sea__metric *m = NULL;
    int rc = out ? metric_register(current_registry(), &g, &m) : -EINVAL;
    if (out)
        *out = HANDLE(sea_gauge, m);
    return rc;
}

int sea_histogram_register(const char *name, const char *help, const sea_metric_label *labels, const double *bounds,
                           size_t nbounds, sea_histogram **out) {
    struct registration g = {.name = name, .help = help, .labels = labels, .kind = KIND_HISTOGRAM,
                             .bounds = bounds, .nbounds = nbounds};
    struct sea__metric *m = NULL;
    int rc = out ? metric_register(current_registry(), &g, &m) : -EINVAL;
    if (out)
        *out = HANDLE(sea_histogram, m);
    return rc;
}

static int register_fn(int kind, const char *name, const char *help, const sea_metric_label *labels,
                       sea_metric_read_fn read, void *arg, sea_metric **out) {
    struct registration g = {.name = name, .help = help, .labels = labels, .kind = kind, .read = read,
                             .arg = arg};
    struct sea__metric *m = NULL;
    int rc = read ? metric_register(current_registry(), &g, &m) : -EINVAL;
    if (out)
        *out = HANDLE(sea_metric, m);
    return rc;
}

int sea_counter_register_fn(const char *name, const char *help, const sea_metric_label *labels,
                            sea_metric_read_fn read, void *arg, sea_metric **out) {
    return register_fn(KIND_COUNTER, name, help, labels, read, arg, out);
}

int sea_gauge_register_fn(const char *name, const char *help, const sea_metric_label *labels,
                          sea_metric_read_fn read, void *arg, sea_metric **out) {
    return register_fn(KIND_GAUGE, name, help, labels, read, arg, out);
}

double sea_metric_read_u64(void *arg) {
    return (double)*(const uint64_t *)arg;
}

double sea_metric_read_i64(void *arg) {
    return (double)*(const int64_t *)arg;
}

double sea_metric_read_double(void *arg) {
    return *(const double *)arg;
}

double sea_metric_read_size(void *arg) {
    return (double)*(const size_t *)arg;
}

void sea__metric_remove(void *handle) {
    struct sea__metric *m = handle;
    if (!m)
        return;
    if (current_registry() != m->reg)
        sea__panic("metric %s removed off its shard (shard %u registered it)", m->fam->name, m->reg->shard);
    metric_unregister(m);
}

void sea_histogram_observe(sea_histogram *h, double v) {
    struct sea__metric *m = HANDLE(struct sea__metric, h);
    if (isnan(v))
        return;
    /* The first bucket whose bound is >= v (Prometheus's "le"), else the +Inf one. */
    size_t lo = 0, hi = m->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->bounds[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    m->buckets[lo]++;
    m->sum += v;
    m->head.sea__count++;
}

int sea_histogram_bounds_exponential(double *bounds, size_t n, double start, double factor) {
    if (!bounds || n == 0 || n > SEA_HISTOGRAM_BUCKETS_MAX || !(start > 0) || !isfinite(start) ||
        !(factor > 1) || !isfinite(factor))
        return -EINVAL;
    double b = start;
    for (size_t i = 0; i < n; i++, b *= factor) {
        if (!isfinite(b))
            return -EINVAL;
        bounds[i] = b;
    }
    return 0;
}

/* ---- the module: each shard's registry ---- */

static int metrics_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__metrics *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->shard = s->id;
    s->slot[SEA__SLOT_METRICS] = r;
    return 0;
}

/* After every other module stopped, whose releases may still remove metrics. */
static void metrics_shard_stop(struct sea__shard *s) {
    struct sea__metrics *r = s->slot[SEA__SLOT_METRICS];
    if (!r)
        return;
    for (size_t i = 0; i < r->nfams; i++) {
        struct sea__link *l;
        while ((l = sea__list_pop_front(&r->fams[i]->series)))
            metric_free(sea__list_entry(l, struct sea__metric, link));
        family_free(r->fams[i]);
    }
    free(r->fams);
    free(r);
    s->slot[SEA__SLOT_METRICS] = NULL;
}

const struct sea__module sea__module_metrics = {
    .name = "metrics",
    .shard_start = metrics_shard_start,
    .shard_stop = metrics_shard_stop,
};

/* ---- snapshots: one shard's samples, rendered on that shard ---- */

struct snap_family {
    size_t name;        /* offsets into the snapshot's text (NUL-terminated strings) */
    size_t help;        /* SIZE_MAX: no help */
    size_t samples;     /* the sample lines: offset and length */
    size_t samples_len;
    uint8_t kind;
};

struct snapshot {
    sea_box box;        /* travels back to the collecting shard as a boxed value */
    unsigned shard;
    size_t n, cursor;   /* families, and the merge's position among them */
    struct snap_family *fams;
    struct text text;
};

static void snapshot_free(struct snapshot *snap) {
    free(snap->fams);
    free(snap->text.p);
    free(snap);
}

static void snapshot_release(sea_box *box) {
    snapshot_free(sea__container_of(box, struct snapshot, box));
}

/* name{labels} or name{labels,extra} (extra: an already formatted pair), and a space. */
static void sample_start(struct text *t, const char *name, const char *suffix, const char *labels,
                         const char *extra) {
    text_puts(t, name);
    text_puts(t, suffix);
    if (*labels || extra) {
        text_puts(t, "{");
        text_puts(t, labels);
        if (extra) {
            if (*labels)
                text_puts(t, ",");
            text_puts(t, extra);
        }
        text_puts(t, "}");
    }
    text_puts(t, " ");
}

static void render_series(struct text *t, const struct family *f, const struct sea__metric *m) {
    if (f->kind == KIND_HISTOGRAM) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= m->nbounds; i++) {
            struct text le = {0};
            text_puts(&le, "le=\"");
            if (i < m->nbounds)
                text_double(&le, m->bounds[i]);
            else
                text_puts(&le, "+Inf");
            text_puts(&le, "\"");
            if (le.failed) {
                t->failed = true;
                free(le.p);
                return;
            }
            cumulative += m->buckets[i];
            sample_start(t, f->name, "_bucket", m->labels, le.p);
            text_printf(t, "%" PRIu64 "\n", cumulative);
            free(le.p);
        }
        sample_start(t, f->name, "_sum", m->labels, NULL);
        text_double(t, m->sum);
        text_puts(t, "\n");
        sample_start(t, f->name, "_count", m->labels, NULL);
        text_printf(t, "%" PRIu64 "\n", m->head.sea__count);
        return;
    }
    sample_start(t, f->name, "", m->labels, NULL);
    if (m->read)
        text_double(t, m->read(m->arg));
    else if (f->kind == KIND_COUNTER)
        text_printf(t, "%" PRIu64, m->head.sea__count);
    else
        text_double(t, m->head.sea__value);
    text_puts(t, "\n");
}

/* Every family of r with its samples, in name order.  NULL if out of memory. */
static struct snapshot *snapshot_take(const struct sea__metrics *r) {
    struct snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap)
        return NULL;
    snap->box.release = snapshot_release;
    snap->shard = r->shard;
    snap->n = r->nfams;
    snap->fams = calloc(r->nfams ? r->nfams : 1, sizeof(*snap->fams));
    if (!snap->fams) {
        snapshot_free(snap);
        return NULL;
    }
    struct text *t = &snap->text;
    for (size_t i = 0; i < r->nfams; i++) {
        const struct family *f = r->fams[i];
        struct snap_family *sf = &snap->fams[i];
        sf->kind = f->kind;
        sf->name = t->len;
        text_append(t, f->name, strlen(f->name) + 1);
        sf->help = SIZE_MAX;
        if (f->help) {
            sf->help = t->len;
            text_append(t, f->help, strlen(f->help) + 1);
        }
        sf->samples = t->len;
        sea__list_for_each(l, &f->series)
            render_series(t, f, sea__list_entry(l, struct sea__metric, link));
        sf->samples_len = t->len - sf->samples;
    }
    if (t->failed) {
        snapshot_free(snap);
        return NULL;
    }
    return snap;
}

static sea_future snapshot_here(void) {
    struct sea__metrics *r = current_registry();
    if (!r)
        return sea_failed(SEA_ESHUTDOWN, "no metrics registry on this shard");
    struct snapshot *snap = snapshot_take(r);
    if (!snap)
        return sea_failed(-ENOMEM, "out of memory taking a metrics snapshot");
    return sea_ready_box(&snap->box);
}

/* ---- merging the shards' snapshots into one text ---- */

static const char *snap_name(const struct snapshot *snap) {
    return snap->cursor < snap->n ? snap->text.p + snap->fams[snap->cursor].name : NULL;
}

/*
 * Prometheus wants each family's samples together under one header: walk
 * the snapshots (each in name order) side by side, a name at a time.  A
 * shard that gave a name another type than the first shard with that name
 * did is left out of that family, with a comment saying so.
 */
static void snapshots_merge(struct snapshot **snaps, unsigned n, struct text *out) {
    for (;;) {
        const char *name = NULL;
        for (unsigned i = 0; i < n; i++) {
            const char *x = snap_name(snaps[i]);
            if (x && (!name || strcmp(x, name) < 0))
                name = x;
        }
        if (!name)
            return;
        const struct snap_family *head = NULL;
        for (unsigned i = 0; i < n; i++) {
            const char *x = snap_name(snaps[i]);
            if (!x || strcmp(x, name) != 0)
                continue;
            const struct snap_family *sf = &snaps[i]->fams[snaps[i]->cursor];
            if (!head) {
                head = sf;
                if (sf->help != SIZE_MAX)
                    text_printf(out, "# HELP %s %s\n", name, snaps[i]->text.p + sf->help);
                text_printf(out, "# TYPE %s %s\n", name, kind_names[sf->kind]);
            }
            if (sf->kind == head->kind)
                text_append(out, snaps[i]->text.p + sf->samples, sf->samples_len);
            else
                text_printf(out, "# sea: shard %u registers %s as a %s, not a %s: its samples are left out\n",
                            snaps[i]->shard, name, kind_names[sf->kind], kind_names[head->kind]);
        }
        /* name points into a snapshot's text, which stays put while the cursors move on. */
        for (unsigned i = 0; i < n; i++) {
            const char *x = snap_name(snaps[i]);
            if (x && strcmp(x, name) == 0)
                snaps[i]->cursor++;
        }
    }
}

/* ---- sea_metrics_render ---- */

struct collect {
    sea_buf *out;
    unsigned n;
    struct snapshot **snaps;
    sea_future fs[];
};

static void collect_free(struct collect *c) {
    free(c->snaps);
    free(c);
}

static sea_future collect_done(struct collect **cp, sea_future *all) {
    struct collect *c = *cp;
    sea_future result;
    int err = sea_future_error(all);
    if (err) {
        /* when_all could not wait: the inputs are untouched, and dropped here. */
        for (unsigned i = 0; i < c->n; i++)
            sea_future_detach(sea_future_move(&c->fs[i]));
        collect_free(c);
        return sea_failed(err, "out of memory collecting metrics");
    }
    /* The first failure in shard order wins; every snapshot is taken, to be freed either way. */
    unsigned got = 0;
    bool failed = false;
    result = sea_ready();
    for (unsigned i = 0; i < c->n; i++) {
        if (sea_future_failed(&c->fs[i])) {
            if (!failed) {
                result = sea_future_move(&c->fs[i]);
                failed = true;
                continue;
            }
        } else {
            sea_value v = sea_future_value(&c->fs[i]);
            c->snaps[got++] = sea__container_of((sea_box *)v.ptr, struct snapshot, box);
        }
        sea_future_detach(sea_future_move(&c->fs[i]));
    }
    if (!failed) {
        struct text t = {0};
        size_t total = 0;
        for (unsigned i = 0; i < got; i++)
            total += c->snaps[i]->text.len + 64 * c->snaps[i]->n;
        text_reserve(&t, total);
        snapshots_merge(c->snaps, got, &t);
        if (!t.failed && !t.p)
            text_reserve(&t, 0); /* nothing registered anywhere: still a buffer */
        if (t.failed || sea_buf_wrap(c->out, t.p, t.len, free, t.p) < 0) {
            free(t.p);
            result = sea_failed(-ENOMEM, "out of memory rendering metrics");
        } else {
            result = sea_ready_size(c->out->len);
        }
    }
    for (unsigned i = 0; i < got; i++)
        snapshot_free(c->snaps[i]);
    collect_free(c);
    return result;
}

sea_future sea_metrics_render(sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->slot[SEA__SLOT_METRICS])
        return sea_failed(SEA_ESHUTDOWN, "sea_metrics_render called with no running reactor");
    unsigned n = s->count;
    struct collect *c = malloc(sizeof(*c) + n * sizeof(sea_future));
    struct snapshot **snaps = calloc(n, sizeof(*snaps));
    if (!c || !snaps) {
        free(c);
        free(snaps);
        return sea_failed(-ENOMEM, "out of memory collecting metrics");
    }
    c->out = out;
    c->n = n;
    c->snaps = snaps;
    for (unsigned i = 0; i < n; i++)
        c->fs[i] = sea_submit_to(i, snapshot_here);
    return sea_then_wrapped(sea_when_all(c->fs, n), collect_done, c);
}
