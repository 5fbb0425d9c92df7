/*
 * routes.c - the route table: a tree of path segments, each node with the
 * handlers of its methods, and the hooks that run before them.
 *
 * A path is matched segment by segment from the root: at each node a
 * literal child is tried first, then the parameter child, then the
 * wildcard, backing up when a branch leads nowhere, so that the most
 * specific pattern wins whatever order the routes were added in.  The
 * table is built before the server starts and only read afterwards, by
 * every shard at once, so matching writes nothing but its caller's scratch.
 */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct handler_entry {
    char *method; /* NULL: any method */
    sea_http_handler fn;
    void *data;
};

struct node {
    char *literal;           /* this node's segment text (literal children) */
    char *param;             /* a parameter or wildcard node: its name */
    struct node **children;  /* literal children */
    unsigned nchildren;
    struct node *param_child;
    struct node *wild_child;
    struct handler_entry *handlers;
    unsigned nhandlers;
};

struct hook_entry {
    char *prefix;
    size_t prefix_len;
    sea_http_hook fn;
    void *data;
};

struct owned {
    void *p;
    void (*free_fn)(void *p);
};

struct sea_http_routes {
    struct node root;
    struct owned *owned; /* what handlers' data the table frees with itself (sea_http_files') */
    unsigned nowned;
    struct hook_entry *hooks;
    unsigned nhooks;
    sea_http_done_fn done;
    void *done_data;
};

sea_http_routes *sea_http_routes_new(void) {
    return calloc(1, sizeof(sea_http_routes));
}

static void node_free(struct node *n) {
    for (unsigned i = 0; i < n->nchildren; i++) {
        node_free(n->children[i]);
        free(n->children[i]);
    }
    free(n->children);
    if (n->param_child) {
        node_free(n->param_child);
        free(n->param_child);
    }
    if (n->wild_child) {
        node_free(n->wild_child);
        free(n->wild_child);
    }
    for (unsigned i = 0; i < n->nhandlers; i++)
        free(n->handlers[i].method);
    free(n->handlers);
    free(n->literal);
    free(n->param);
}

void sea_http_routes_free(sea_http_routes *routes) {
    if (!routes)
        return;
    node_free(&routes->root);
    for (unsigned i = 0; i < routes->nowned; i++)
        routes->owned[i].free_fn(routes->owned[i].p);
    free(routes->owned);
    for (unsigned i = 0; i < routes->nhooks; i++)
        free(routes->hooks[i].prefix);
    free(routes->hooks);
    free(routes);
}

static bool valid_method(const char *m) {
    if (!*m)
        return false;
    for (const unsigned char *c = (const unsigned char *)m; *c; c++)
        if (!sea__http_tchar[*c])
            return false;
    return true;
}

/* The child of n for one pattern segment seg[0..len), made if missing; NULL on -EINVAL/-ENOMEM (*err). */
static struct node *child_for(struct node *n, const char *seg, size_t len, bool last, int *err) {
    if (len >= 2 && seg[0] == '{' && seg[len - 1] == '}') {
        bool wild = len >= 3 && seg[len - 2] == '*';
        size_t name_len = len - 2 - (wild ? 1 : 0);
        if (name_len == 0 || memchr(seg + 1, '{', name_len) || memchr(seg + 1, '}', name_len) ||
            (wild && !last)) {
            *err = -EINVAL;
            return NULL;
        }
        struct node **slot = wild ? &n->wild_child : &n->param_child;
        if (*slot) {
            if (strlen((*slot)->param) != name_len || memcmp((*slot)->param, seg + 1, name_len) != 0) {
                *err = -EINVAL; /* the same place, another name: which would the handler read? */
                return NULL;
            }
            return *slot;
        }
        struct node *c = calloc(1, sizeof(*c));
        char *name = c ? strndup(seg + 1, name_len) : NULL;
        if (!name) {
            free(c);
            *err = -ENOMEM;
            return NULL;
        }
        c->param = name;
        *slot = c;
        return c;
    }
    if (memchr(seg, '{', len) || memchr(seg, '}', len)) {
        *err = -EINVAL;
        return NULL;
    }
    for (unsigned i = 0; i < n->nchildren; i++)
        if (strlen(n->children[i]->literal) == len && memcmp(n->children[i]->literal, seg, len) == 0)
            return n->children[i];
    struct node **grown = realloc(n->children, (n->nchildren + 1) * sizeof(*grown));
    if (!grown) {
        *err = -ENOMEM;
        return NULL;
    }
    n->children = grown;
    struct node *c = calloc(1, sizeof(*c));
    char *lit = c ? strndup(seg, len) : NULL;
    if (!lit) {
        free(c);
        *err = -ENOMEM;
        return NULL;
    }
    c->literal = lit;
    n->children[n->nchildren++] = c;
    return c;
}

int sea_http_route(sea_http_routes *routes, const char *method, const char *pattern, sea_http_handler handler,
                   void *data) {
    if (!routes || !pattern || pattern[0] != '/' || !handler)
        return -EINVAL;
    if (method && strcmp(method, "*") == 0)
        method = NULL;
    if (method && !valid_method(method))
        return -EINVAL;
    struct node *n = &routes->root;
    const char *p = pattern + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        int err = 0;
        n = child_for(n, p, len, !slash, &err);
        if (!n)
            return err;
        if (!slash)
            break;
        p = slash + 1;
    }
    for (unsigned i = 0; i < n->nhandlers; i++) {
        const char *m = n->handlers[i].method;
        if ((!m && !method) || (m && method && strcmp(m, method) == 0))
            return -EEXIST;
    }
    struct handler_entry *grown = realloc(n->handlers, (n->nhandlers + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    n->handlers = grown;
    char *m = NULL;
    if (method && !(m = strdup(method)))
        return -ENOMEM;
    n->handlers[n->nhandlers++] = (struct handler_entry){m, handler, data};
    return 0;
}

int sea__http_routes_own(sea_http_routes *routes, void *p, void (*free_fn)(void *p)) {
    struct owned *grown = realloc(routes->owned, (routes->nowned + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    routes->owned = grown;
    routes->owned[routes->nowned++] = (struct owned){p, free_fn};
    return 0;
}

int sea_http_use(sea_http_routes *routes, const char *prefix, sea_http_hook hook, void *data) {
    if (!routes || !prefix || prefix[0] != '/' || !hook)
        return -EINVAL;
    struct hook_entry *grown = realloc(routes->hooks, (routes->nhooks + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    routes->hooks = grown;
    size_t len = strlen(prefix);
    while (len > 1 && prefix[len - 1] == '/')
        len--; /* "/admin/" covers what "/admin" does */
    char *p = strndup(prefix, len);
    if (!p)
        return -ENOMEM;
    routes->hooks[routes->nhooks++] = (struct hook_entry){p, len == 1 ? 0 : len, hook, data};
    return 0;
}

void sea_http_on_done(sea_http_routes *routes, sea_http_done_fn fn, void *data) {
    routes->done = fn;
    routes->done_data = data;
}

sea_http_done_fn sea__http_routes_done(const sea_http_routes *routes, void **data) {
    *data = routes->done_data;
    return routes->done;
}

/* ---- matching ---- */

/*
 * Matches the segments from seg on (seg points into scratch, the path's
 * copy, at the start of a segment; NULL past the last one).  On success
 * returns the node, with the parameters appended to params.
 */
static const struct node *match(const struct node *n, char *seg, struct sea__http_params *params) {
    if (!seg)
        return n->nhandlers ? n : NULL;
    char *slash = strchr(seg, '/');
    char *next = slash ? slash + 1 : NULL;
    if (slash)
        *slash = 0;
    for (unsigned i = 0; i < n->nchildren; i++) {
        if (strcmp(n->children[i]->literal, seg) == 0) {
            const struct node *m = match(n->children[i], next, params);
            if (m)
                return m;
            break;
        }
    }
    if (n->param_child && *seg && params->count < SEA__HTTP_PARAMS_MAX) {
        unsigned mark = params->count;
        params->name[params->count] = n->param_child->param;
        params->value[params->count++] = seg;
        const struct node *m = match(n->param_child, next, params);
        if (m)
            return m;
        params->count = mark;
    }
    if (slash)
        *slash = '/'; /* the wildcard takes the rest, slashes and all */
    if (n->wild_child && n->wild_child->nhandlers && params->count < SEA__HTTP_PARAMS_MAX) {
        params->name[params->count] = n->wild_child->param;
        params->value[params->count++] = seg;
        return n->wild_child;
    }
    return NULL;
}

static const struct handler_entry *find_method(const struct node *n, const char *method) {
    const struct handler_entry *any = NULL;
    for (unsigned i = 0; i < n->nhandlers; i++) {
        const struct handler_entry *h = &n->handlers[i];
        if (!h->method)
            any = h;
        else if (strcmp(h->method, method) == 0)
            return h;
    }
    return any;
}

void sea__http_routes_match(const sea_http_routes *routes, const char *method, const char *path, char *scratch,
                            struct sea__http_params *params, struct sea__http_match *out) {
    params->count = 0;
    out->handler = NULL;
    out->data = NULL;
    out->allow[0] = 0;
    if (path[0] != '/') {
        out->status = 404; /* "*" (OPTIONS) and CONNECT's authority have no routes */
        return;
    }
    strcpy(scratch, path + 1);
    const struct node *n = match(&routes->root, scratch, params);
    if (!n) {
        out->status = 404;
        return;
    }
    const struct handler_entry *h = find_method(n, method);
    if (!h && strcmp(method, "HEAD") == 0)
        h = find_method(n, "GET");
    if (h) {
        out->handler = h->fn;
        out->data = h->data;
        out->status = 0;
        return;
    }
    out->status = 405;
    size_t len = 0;
    bool get = false, head = false;
    for (unsigned i = 0; i < n->nhandlers; i++) {
        const char *m = n->handlers[i].method;
        get |= strcmp(m, "GET") == 0;
        head |= strcmp(m, "HEAD") == 0;
        size_t k = strlen(m);
        if (len + k + 3 < sizeof(out->allow)) {
            if (len) {
                memcpy(out->allow + len, ", ", 2);
                len += 2;
            }
            memcpy(out->allow + len, m, k);
            len += k;
        }
    }
    if (get && !head && len + 7 < sizeof(out->allow)) {
        memcpy(out->allow + len, ", HEAD", 6);
        len += 6;
    }
    out->allow[len] = 0;
}

bool sea__http_next_hook(const sea_http_routes *routes, const char *path, unsigned *i, sea_http_hook *fn,
                         void **data) {
    for (; *i < routes->nhooks; (*i)++) {
        const struct hook_entry *h = &routes->hooks[*i];
        if (h->prefix_len &&
            (strncmp(path, h->prefix, h->prefix_len) != 0 || (path[h->prefix_len] != 0 && path[h->prefix_len] != '/')))
            continue;
        *fn = h->fn;
        *data = h->data;
        (*i)++;
        return true;
    }
    return false;
}
