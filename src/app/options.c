/*
 * options.c - the command line: one parser for every module's options and
 * the application's, --help generated from their declarations, and the
 * application's getters (sea/options.h).
 *
 * Parsing is a pure function over argv: it never prints or exits, so it can
 * be tested and fuzzed in-process.  Every malformed input yields SEA_EUSAGE
 * and a one-line message naming the option.  Each module reads its own
 * options afterwards, in its configure hook.
 */
#include "app/options.h"

#include <sea/error.h>
#include <sea/options.h>

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app/modules.h"
#include "base/text.h"

/* ---- the application's option tables ---- */

static struct sea__opt *declared; /* every option the application declared, in order */
static size_t ndeclared;
static bool tables_locked;

void sea__options_lock(bool locked) {
    tables_locked = locked;
}

/* Calls fn on every option: the modules' in module order, then the application's. */
#define FOR_EACH_OPTION(opt, ...)                                                             \
    do {                                                                                      \
        for (size_t mi_ = 0; mi_ < sea__app_module_count; mi_++) {                            \
            const struct sea__module *m_ = sea__app_modules[mi_];                             \
            for (size_t oi_ = 0; oi_ < m_->noptions; oi_++) {                                 \
                const struct sea__opt *opt = &m_->options[oi_];                               \
                __VA_ARGS__                                                                   \
            }                                                                                 \
        }                                                                                     \
        for (size_t ai_ = 0; ai_ < ndeclared; ai_++) {                                        \
            const struct sea__opt *opt = &declared[ai_];                                      \
            __VA_ARGS__                                                                       \
        }                                                                                     \
    } while (0)

static bool is_standard(const char *name) {
    for (size_t mi = 0; mi < sea__app_module_count; mi++)
        for (size_t oi = 0; oi < sea__app_modules[mi]->noptions; oi++)
            if (strcmp(sea__app_modules[mi]->options[oi].o.name, name) == 0)
                return true;
    return false;
}

/* Whether c is the short name of a standard option or of an application option declared earlier. */
static bool short_taken(char c) {
    for (size_t mi = 0; mi < sea__app_module_count; mi++)
        for (size_t oi = 0; oi < sea__app_modules[mi]->noptions; oi++)
            if (sea__app_modules[mi]->options[oi].short_name == c)
                return true;
    for (size_t k = 0; k < ndeclared; k++)
        if (declared[k].short_name == c)
            return true;
    return false;
}

int sea_app_add_options(const sea_option *table, size_t count) {
    if (tables_locked)
        return -EBUSY;
    if (count && !table)
        return -EINVAL;
    for (size_t i = 0; i < count; i++) {
        const sea_option *o = &table[i];
        struct sea__opt probe = {.o = *o, .flags = SEA__OPT_APP};
        const char *why = sea__opt_check_declaration(&probe);
        if (!why && is_standard(o->name))
            why = "is a standard option";
        for (size_t k = 0; !why && k < ndeclared; k++)
            if (strcmp(declared[k].o.name, o->name) == 0)
                why = "is declared twice";
        for (size_t k = 0; !why && k < i; k++)
            if (strcmp(table[k].name, o->name) == 0)
                why = "is declared twice";
        if (!why && o->short_name) {
            if (!isalnum((unsigned char)o->short_name))
                why = "has a short name that is not a letter or digit";
            else if (short_taken(o->short_name))
                why = "has a short name already taken";
            for (size_t k = 0; !why && k < i; k++)
                if (table[k].short_name == o->short_name)
                    why = "has a short name already taken";
        }
        if (why) {
            fprintf(stderr, "sea_app_add_options: option '%.64s' %s\n", o->name ? o->name : "(null)", why);
            return -EINVAL;
        }
    }
    struct sea__opt *grown = realloc(declared, (ndeclared + count + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    declared = grown;
    for (size_t i = 0; i < count; i++)
        declared[ndeclared++] =
            (struct sea__opt){.o = table[i], .short_name = table[i].short_name, .flags = SEA__OPT_APP};
    return 0;
}

/* ---- --help ---- */

static const char *value_name(const struct sea__opt *opt) {
    static const char *const app_names[] = {"", "INT", "NUMBER", "TEXT", "SIZE"};
    static const char *const std_names[] = {"", "N", "X", "TEXT", "SIZE"};
    if (opt->value_name)
        return opt->value_name;
    return (opt->flags & SEA__OPT_APP) ? app_names[opt->o.type] : std_names[opt->o.type];
}

/* Writes text from column `col`, wrapped at 79 columns with continuation lines indented to `indent`. */
static void print_wrapped(FILE *f, const char *text, int col, int indent) {
    while (*text) {
        size_t room = col < 79 ? (size_t)(79 - col) : 20;
        size_t n = strlen(text);
        if (n > room) {
            size_t cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            n = cut ? cut : room;
        }
        fprintf(f, "%.*s", (int)n, text);
        text += n;
        while (*text == ' ')
            text++;
        if (*text) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        }
    }
}

static void print_option(FILE *f, const struct sea__opt *opt) {
    enum { HELP_COLUMN = 36 };
    char left[160];
    const char *vn = value_name(opt);
    bool flag = opt->o.type == SEA_OPTION_FLAG;
    if (opt->short_name && flag)
        snprintf(left, sizeof(left), "  -%c, --%s", opt->short_name, opt->o.name);
    else if (opt->short_name)
        snprintf(left, sizeof(left), "  -%c %s, --%s %s", opt->short_name, vn, opt->o.name, vn);
    else if (flag)
        snprintf(left, sizeof(left), "  --%s", opt->o.name);
    else
        snprintf(left, sizeof(left), "  --%s %s", opt->o.name, vn);
    int col = fprintf(f, "%s", left);
    if (col >= HELP_COLUMN) {
        fprintf(f, "\n%*s", HELP_COLUMN, "");
    } else {
        fprintf(f, "%*s", HELP_COLUMN - col, "");
    }
    char help[512];
    snprintf(help, sizeof(help), "%s", opt->o.help ? opt->o.help : "");
    if ((opt->flags & SEA__OPT_APP) && opt->o.default_value && !flag) {
        size_t len = strlen(help);
        snprintf(help + len, sizeof(help) - len, " (default %s)", opt->o.default_value);
    }
    print_wrapped(f, help, HELP_COLUMN, HELP_COLUMN);
    fputc('\n', f);
}

void sea__options_print_help(FILE *f, const char *prog) {
    fprintf(f, "Usage: %s [options]\n\nStandard options:\n", prog);
    for (size_t mi = 0; mi < sea__app_module_count; mi++)
        for (size_t oi = 0; oi < sea__app_modules[mi]->noptions; oi++)
            print_option(f, &sea__app_modules[mi]->options[oi]);
    if (!ndeclared)
        return;
    fprintf(f, "\nApplication options:\n");
    for (size_t i = 0; i < ndeclared; i++)
        print_option(f, &declared[i]);
}

/* ---- parsing ---- */

void sea__options_free(struct sea__options *o) {
    sea__opt_values_free(&o->values);
    free(o->args);
    o->args = NULL;
    o->nargs = 0;
}

static int usage(char *err, size_t errlen, const char *fmt, const char *a) {
    snprintf(err, errlen, fmt, a);
    /* One line, whatever the argument holds: control characters are shown as '?'. */
    if (errlen)
        sea__one_line(err);
    return SEA_EUSAGE;
}

/* The value of the option with this short name, or NULL. */
static struct sea__opt_value *find_short(struct sea__options *o, char c) {
    for (size_t i = 0; i < o->values.n; i++)
        if (o->values.v[i].opt->short_name == c)
            return &o->values.v[i];
    return NULL;
}

/* Parses text as v's value; a repeatable option keeps every value in order. */
static int take_value(struct sea__opt_value *v, const char *text, char *err, size_t errlen) {
    int rc = sea__opt_parse_value(v->opt, text, v, err, errlen);
    if (rc < 0)
        return rc;
    v->given = true;
    if (v->opt->flags & SEA__OPT_REPEAT) {
        const char **grown = realloc(v->list, (v->nlist + 1) * sizeof(*grown));
        if (!grown)
            return usage(err, errlen, "out of memory parsing options%s", "");
        v->list = grown;
        v->list[v->nlist++] = text;
    }
    return 0;
}

int sea__options_parse(int argc, char **argv, struct sea__options *o, char *err, size_t errlen) {
    memset(o, 0, sizeof(*o));
    if (argc < 0 || (argc > 0 && !argv))
        return usage(err, errlen, "invalid argument vector%s", "");
    size_t n = 0;
    FOR_EACH_OPTION(opt, (void)opt; n++;);
    o->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    o->values.v = calloc(n ? n : 1, sizeof(*o->values.v));
    if (!o->args || !o->values.v)
        return usage(err, errlen, "out of memory parsing options%s", "");
    /* Every option starts with its default (a flag: false, unless the default says true). */
    FOR_EACH_OPTION(opt, {
        struct sea__opt_value *v = &o->values.v[o->values.n++];
        v->opt = opt;
        if (opt->o.default_value && sea__opt_parse_value(opt, opt->o.default_value, v, err, errlen) < 0)
            return SEA_EUSAGE; /* declarations are checked; cannot happen */
        if (opt->o.type == SEA_OPTION_FLAG)
            v->has_value = true;
    });
    bool rest_positional = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!a)
            break;
        if (rest_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            rest_positional = true;
            continue;
        }
        if (a[1] != '-') {
            /* -cN, -c N, -c=N: a short spelling of a long option that takes a value. */
            struct sea__opt_value *v = find_short(o, a[1]);
            if (!v)
                return usage(err, errlen, "unknown option '%s' (see --help)", a);
            if (v->opt->o.type == SEA_OPTION_FLAG) { /* -v, or -vv: the letter repeated */
                for (const char *p = a + 2; *p; p++)
                    if (*p != a[1])
                        return usage(err, errlen, "option '%.2s' takes no value", a);
                int rc = take_value(v, "true", err, errlen);
                if (rc < 0)
                    return rc;
                continue;
            }
            const char *value = a[2] == '=' ? a + 3 : a[2] ? a + 2 : NULL;
            if (!value) {
                if (i + 1 >= argc || !argv[i + 1])
                    return usage(err, errlen, "option '%.3s' needs a value", a);
                value = argv[++i];
            }
            int rc = take_value(v, value, err, errlen);
            if (rc < 0)
                return rc;
            continue;
        }
        /* "--name" or "--name=value". */
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        struct sea__opt_value *v = sea__opt_find(&o->values, name, nlen);
        if (!v) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), name);
            return usage(err, errlen, "unknown option '--%s' (see --help)", shown);
        }
        if (v->opt->o.type == SEA_OPTION_FLAG) {
            /* --flag, or --flag=true/false (so that the command line can undo an options file's). */
            int rc = take_value(v, value ? value : "true", err, errlen);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc || !argv[i + 1])
                return usage(err, errlen, "option '--%s' needs a value", v->opt->o.name);
            value = argv[++i];
        }
        int rc = take_value(v, value, err, errlen);
        if (rc < 0)
            return rc;
    }
    o->args[o->nargs] = NULL;
    return sea__opt_flag(&o->values, "help") ? 1 : 0;
}

/* ---- reading the application's options ---- */

/*
 * The running application's options: set before its shards start and
 * cleared after they end, so any thread may read them meanwhile.
 */
static const struct sea__options *_Atomic current;

void sea__options_set_current(const struct sea__options *o) {
    current = o;
}

/* An option the application declared (sea_option_* read no other). */
static const struct sea__opt_value *app_value(const char *name) {
    const struct sea__options *o = current;
    if (!o || !name)
        return NULL;
    const struct sea__opt_value *v = sea__opt_find(&o->values, name, strlen(name));
    return v && (v->opt->flags & SEA__OPT_APP) ? v : NULL;
}

static int lookup(const char *name, sea_option_type type, const struct sea__opt_value **out) {
    if (!current)
        return SEA_ESHUTDOWN;
    const struct sea__opt_value *v = app_value(name);
    if (!v)
        return -ENOENT;
    if (v->opt->o.type != type)
        return -EINVAL;
    if (!v->has_value)
        return -ENODATA;
    *out = v;
    return 0;
}

int sea_option_get_int(const char *name, int64_t *out) {
    const struct sea__opt_value *v;
    int rc = lookup(name, SEA_OPTION_INT, &v);
    if (rc == 0)
        *out = v->v.i;
    return rc;
}

int sea_option_get_double(const char *name, double *out) {
    const struct sea__opt_value *v;
    int rc = lookup(name, SEA_OPTION_DOUBLE, &v);
    if (rc == 0)
        *out = v->v.d;
    return rc;
}

int sea_option_get_string(const char *name, const char **out) {
    const struct sea__opt_value *v;
    int rc = lookup(name, SEA_OPTION_STRING, &v);
    if (rc == 0)
        *out = v->v.s;
    return rc;
}

int sea_option_get_size(const char *name, uint64_t *out) {
    const struct sea__opt_value *v;
    int rc = lookup(name, SEA_OPTION_SIZE, &v);
    if (rc == 0)
        *out = v->v.size;
    return rc;
}

int sea_option_get_flag(const char *name, bool *out) {
    const struct sea__opt_value *v;
    int rc = lookup(name, SEA_OPTION_FLAG, &v);
    if (rc == 0)
        *out = v->v.flag;
    return rc;
}

bool sea_option_given(const char *name) {
    const struct sea__opt_value *v = app_value(name);
    return v && v->given;
}

/* The convenient getters: a missing or mistyped option is a bug in the caller. */
static void misuse(const char *fn, const char *name, int rc) {
    if (rc == 0 || rc == -ENODATA)
        return;
    fprintf(stderr, "%s(\"%s\"): %s\n", fn, name ? name : "(null)",
            rc == -ENOENT ? "no such option was declared with sea_app_add_options"
            : rc == -EINVAL ? "the option was declared with another type"
                            : "no application is running");
    abort();
}

int64_t sea_option_int(const char *name) {
    int64_t x = 0;
    misuse("sea_option_int", name, sea_option_get_int(name, &x));
    return x;
}

double sea_option_double(const char *name) {
    double x = 0;
    misuse("sea_option_double", name, sea_option_get_double(name, &x));
    return x;
}

const char *sea_option_string(const char *name) {
    const char *x = NULL;
    misuse("sea_option_string", name, sea_option_get_string(name, &x));
    return x;
}

uint64_t sea_option_size(const char *name) {
    uint64_t x = 0;
    misuse("sea_option_size", name, sea_option_get_size(name, &x));
    return x;
}

bool sea_option_flag(const char *name) {
    bool x = false;
    misuse("sea_option_flag", name, sea_option_get_flag(name, &x));
    return x;
}
