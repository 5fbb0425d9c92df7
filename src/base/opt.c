/*
 * opt.c - declaring options, parsing one value, reading parsed values
 * (see opt.h).  The command line as a whole is parsed in app/options.c.
 */
#include "base/opt.h"

#include <sea/error.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "base/text.h"

static bool valid_name(const char *name) {
    if (!name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')) || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static bool bounded(const sea_option *o) {
    return o->min != 0 || o->max != 0;
}

const char *sea__opt_check_declaration(const struct sea__opt *opt) {
    const sea_option *o = &opt->o;
    if (!valid_name(o->name))
        return "is not a valid name (a letter, then letters, digits and '-')";
    if ((unsigned)o->type > SEA_OPTION_SIZE)
        return "has an unknown type";
    if (o->min > o->max || ((o->type == SEA_OPTION_FLAG || o->type == SEA_OPTION_STRING) && bounded(o)))
        return "has bounds that do not fit its type";
    char err[256];
    struct sea__opt_value scratch;
    if (o->default_value && sea__opt_parse_value(opt, o->default_value, &scratch, err, sizeof(err)) < 0)
        return "has a default that does not parse";
    return NULL;
}

/* err := "option '--NAME': 'TEXT' is not WHAT", on one line whatever the text holds. */
static int bad_value(const sea_option *o, const char *text, const char *what, char *err, size_t errlen) {
    snprintf(err, errlen, "option '--%s': '%.60s' is not %s", o->name, text, what);
    if (errlen)
        sea__one_line(err);
    return SEA_EUSAGE;
}

int sea__opt_parse_value(const struct sea__opt *opt, const char *text, struct sea__opt_value *val, char *err,
                         size_t errlen) {
    const sea_option *o = &opt->o;
    char what[160];
    if (opt->meaning)
        snprintf(what, sizeof(what), "%s", opt->meaning);
    else if (o->type == SEA_OPTION_SIZE)
        snprintf(what, sizeof(what), bounded(o) ? "a size (bytes, or a number with k, M, G or T) in %.0f..%.0f bytes"
                                                : "a size (bytes, or a number with k, M, G or T)",
                 o->min, o->max);
    else if (o->type == SEA_OPTION_INT || o->type == SEA_OPTION_DOUBLE)
        snprintf(what, sizeof(what), bounded(o) ? "a %s in %.17g..%.17g" : "a %s",
                 o->type == SEA_OPTION_INT ? "whole number" : "number", o->min, o->max);
    else
        snprintf(what, sizeof(what), "true or false");
    switch (o->type) {
    case SEA_OPTION_FLAG:
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0)
            val->v.flag = true;
        else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0)
            val->v.flag = false;
        else
            return bad_value(o, text, "true or false", err, errlen);
        break;
    case SEA_OPTION_INT: {
        const char *digits = text[0] == '-' ? text + 1 : text;
        unsigned long long mag;
        if (!sea__parse_uint(digits, (unsigned long long)INT64_MAX + (text[0] == '-'), &mag))
            return bad_value(o, text, what, err, errlen);
        int64_t x = text[0] == '-' ? (int64_t)(0 - mag) : (int64_t)mag;
        if (bounded(o) && ((double)x < o->min || (double)x > o->max))
            return bad_value(o, text, what, err, errlen);
        val->v.i = x;
        break;
    }
    case SEA_OPTION_DOUBLE: {
        double x;
        if (!sea__parse_double(text, bounded(o) ? o->min : -HUGE_VAL, bounded(o) ? o->max : HUGE_VAL, &x))
            return bad_value(o, text, what, err, errlen);
        val->v.d = x;
        break;
    }
    case SEA_OPTION_SIZE: {
        uint64_t x;
        if (!sea__parse_size(text, &x) || (bounded(o) && ((double)x < o->min || (double)x > o->max)))
            return bad_value(o, text, what, err, errlen);
        val->v.size = x;
        break;
    }
    case SEA_OPTION_STRING:
        val->v.s = text;
        break;
    }
    if (opt->check && !opt->check(text))
        return bad_value(o, text, what, err, errlen);
    val->has_value = true;
    return 0;
}

struct sea__opt_value *sea__opt_find(const struct sea__opt_values *vals, const char *name, size_t len) {
    for (size_t i = 0; i < vals->n; i++) {
        const char *n = vals->v[i].opt->o.name;
        if (strlen(n) == len && strncmp(n, name, len) == 0)
            return &vals->v[i];
    }
    return NULL;
}

static const struct sea__opt_value *typed(const struct sea__opt_values *vals, const char *name, sea_option_type t) {
    const struct sea__opt_value *v = sea__opt_find(vals, name, strlen(name));
    if (!v || v->opt->o.type != t)
        sea__panic("internal error: option '%s' read as another type, or not declared", name);
    return v;
}

int64_t sea__opt_int(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = typed(vals, name, SEA_OPTION_INT);
    return v->has_value ? v->v.i : 0;
}

double sea__opt_double(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = typed(vals, name, SEA_OPTION_DOUBLE);
    return v->has_value ? v->v.d : 0.0;
}

const char *sea__opt_string(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = typed(vals, name, SEA_OPTION_STRING);
    return v->has_value ? v->v.s : NULL;
}

uint64_t sea__opt_size(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = typed(vals, name, SEA_OPTION_SIZE);
    return v->has_value ? v->v.size : 0;
}

bool sea__opt_flag(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = typed(vals, name, SEA_OPTION_FLAG);
    return v->has_value && v->v.flag;
}

bool sea__opt_given(const struct sea__opt_values *vals, const char *name) {
    const struct sea__opt_value *v = sea__opt_find(vals, name, strlen(name));
    return v && v->given;
}

const char *const *sea__opt_list(const struct sea__opt_values *vals, const char *name, size_t *n) {
    const struct sea__opt_value *v = sea__opt_find(vals, name, strlen(name));
    if (!v || !(v->opt->flags & SEA__OPT_REPEAT))
        sea__panic("internal error: option '%s' read as a list, or not declared", name);
    *n = v->nlist;
    return v->list;
}

void sea__opt_values_free(struct sea__opt_values *vals) {
    for (size_t i = 0; i < vals->n; i++)
        free(vals->v[i].list);
    free(vals->v);
    vals->v = NULL;
    vals->n = 0;
}
