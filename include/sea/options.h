/*
 * sea/options.h - the application's own command-line options.
 *
 * An application declares its options once, before sea_app_run, as a
 * static table; sea parses them with the standard ones, shows them in
 * --help under "Application options", and lets every shard read the values:
 *
 *     static const sea_option app_opts[] = {
 *         {.name = "port", .type = SEA_OPTION_INT, .default_value = "11211",
 *          .help = "TCP port to serve", .min = 1, .max = 65535},
 *         {.name = "name", .type = SEA_OPTION_STRING, .default_value = "demo", .help = "the server's name"},
 *         {.name = "verbose", .type = SEA_OPTION_FLAG, .help = "say more"},
 *     };
 *     int main(int argc, char **argv) {
 *         sea_app_add_options(app_opts, SEA_OPTION_COUNT(app_opts));
 *         return sea_app_run(argc, argv, app_main, NULL);
 *     }
 *     ... on any shard: int64_t port = sea_option_int("port");
 *
 * Values come from the command line (--port=8080 or --port 8080) or from an
 * options file (--options-file FILE, lines "name = value", '#' comments),
 * which takes the same names, standard options included; the command line
 * wins over the file.  A malformed value stops start-up with one line naming
 * the option (and the file and line), and exit status 2.
 */
#ifndef SEA_OPTIONS_H
#define SEA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_option_type {
    SEA_OPTION_FLAG,   /* --name with no value; true when given (in a file: true/false/yes/no/1/0) */
    SEA_OPTION_INT,    /* a whole number, optionally bounded by min..max */
    SEA_OPTION_DOUBLE, /* a decimal number, optionally bounded by min..max */
    SEA_OPTION_STRING, /* any text */
    SEA_OPTION_SIZE,   /* a size in bytes, or with k, M, G, T in either case (powers of two), bounded by min..max */
} sea_option_type;

typedef struct sea_option {
    const char *name;          /* long name without "--": letters, digits and '-', starting with a letter */
    sea_option_type type;
    const char *default_value; /* parsed like a command-line value; NULL: no default (flags: false) */
    const char *help;          /* one line for --help */
    double min, max;           /* bounds for INT, DOUBLE and SIZE; both 0: unbounded */
    char short_name;           /* 'p': "-p 11211", "-p11211" and "-p=11211" mean "--NAME 11211"; a flag's
                                  "-v" (or "-vv") sets it; 0: none.  A letter or digit not taken already */
} sea_option;

#define SEA_OPTION_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/*
 * Declares count options from table, which must stay valid (a static
 * array).  Call before sea_app_run; may be called several times (a library
 * and its application each adding theirs).  Returns 0, or -EINVAL for a bad
 * name, a type out of range, min > max, a default that does not parse, or a
 * name already taken (by a standard option or an earlier table) - with the
 * reason printed on stderr - or -EBUSY while an application runs, or
 * -ENOMEM.
 */
int sea_app_add_options(const sea_option *table, size_t count);

/*
 * Reading values, on any shard while the application runs.
 *
 * The checked form returns 0 and stores the value, or -ENOENT (no such
 * option), -EINVAL (the option has another type), -ENODATA (not given and
 * no default) or SEA_ESHUTDOWN (no application running).
 */
int sea_option_get_int(const char *name, int64_t *out);
int sea_option_get_double(const char *name, double *out);
int sea_option_get_string(const char *name, const char **out);
int sea_option_get_size(const char *name, uint64_t *out);
int sea_option_get_flag(const char *name, bool *out);

/*
 * The convenient form returns the value directly.  Asking for an option
 * that was never declared, or with the wrong type, is a programming error:
 * it prints what was wrong and aborts, like a failed assertion.  An option
 * with no value gives 0, 0.0, NULL or false.
 */
int64_t sea_option_int(const char *name);
double sea_option_double(const char *name);
const char *sea_option_string(const char *name);
uint64_t sea_option_size(const char *name);
bool sea_option_flag(const char *name);

/* True if the option was set on the command line or in the options file. */
bool sea_option_given(const char *name);

#ifdef __cplusplus
}
#endif
#endif
