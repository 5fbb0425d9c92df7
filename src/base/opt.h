/*
 * base/opt.h - options: how one is declared, how one value is parsed, and
 * the parsed values a program runs with.
 *
 * sea's own options are declared in the tables of the modules they belong
 * to (core/module.h), an application's with sea_app_add_options
 * (sea/options.h); both become struct sea__opt, parsed by one parser
 * (app/options.c) into struct sea__opt_values, which each module reads in
 * its configure hook and the application through sea_option_*().
 */
#ifndef SEA_BASE_OPT_H
#define SEA_BASE_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/options.h>

/* sea__opt.flags */
enum {
    SEA__OPT_REPEAT = 1u, /* may be given many times: every value is kept, in order (sea__opt_list) */
    SEA__OPT_APP = 2u,    /* declared by the application: shown under "Application options", read by sea_option_*() */
};

/*
 * An option: the fields an application declares (name, type, default,
 * help, bounds), plus what some of sea's own need.
 */
struct sea__opt {
    sea_option o;
    char short_name;        /* 'c': "-c N", "-cN" and "-c=N" mean "--NAME N" */
    unsigned flags;         /* SEA__OPT_* */
    const char *value_name; /* for --help: "N", "LIST", "LEVEL" (NULL: from the type) */
    /* What a value must be, for the error message ("a CPU list such as 0-3,8"); NULL: from type and bounds. */
    const char *meaning;
    /* Further rules a value must meet (a CPU list, NAME=LEVEL), or NULL. */
    bool (*check)(const char *value);
};

/* One option's value. */
struct sea__opt_value {
    const struct sea__opt *opt;
    bool given;     /* on the command line or in the options file */
    bool has_value; /* given, or a default */
    union {
        int64_t i;
        double d;
        const char *s; /* points into argv, the options file's lines, or the default */
        uint64_t size;
        bool flag;
    } v;
    const char **list; /* SEA__OPT_REPEAT: every value given (malloc'ed) */
    size_t nlist;
};

/* The values of every option a program knows, in declaration order. */
struct sea__opt_values {
    struct sea__opt_value *v;
    size_t n;
};

/*
 * Checks a declaration: a valid name (a letter, then letters, digits and
 * '-'), a known type, bounds that fit the type, a default that parses.
 * Returns NULL if it is fine, else why not ("is not a valid name ...").
 */
const char *sea__opt_check_declaration(const struct sea__opt *opt);
/*
 * Parses text as opt's value into *val (setting has_value).  Returns 0, or
 * SEA_EUSAGE with a one-line message naming the option in err.
 */
int sea__opt_parse_value(const struct sea__opt *opt, const char *text, struct sea__opt_value *val, char *err,
                         size_t errlen);

/* The value of the option called name[0..len), or NULL if there is none. */
struct sea__opt_value *sea__opt_find(const struct sea__opt_values *vals, const char *name, size_t len);

/*
 * Typed reads, for modules' configure hooks: the option must exist with
 * that type (a mismatch is a bug in sea, and panics).  An option with no
 * value reads as 0, 0.0, NULL or false.
 */
int64_t sea__opt_int(const struct sea__opt_values *vals, const char *name);
double sea__opt_double(const struct sea__opt_values *vals, const char *name);
const char *sea__opt_string(const struct sea__opt_values *vals, const char *name);
uint64_t sea__opt_size(const struct sea__opt_values *vals, const char *name);
bool sea__opt_flag(const struct sea__opt_values *vals, const char *name);
/* True if the option was given (command line or options file). */
bool sea__opt_given(const struct sea__opt_values *vals, const char *name);
/* Every value a SEA__OPT_REPEAT option was given, in order; *n of them. */
const char *const *sea__opt_list(const struct sea__opt_values *vals, const char *name, size_t *n);

/* Frees what parsing allocated in vals (not the strings, which are borrowed). */
void sea__opt_values_free(struct sea__opt_values *vals);

#endif
