/*
 * app/options.h - the command line: every module's options and the
 * application's, parsed by one parser (options.c), and the options file
 * (options_file.c) that feeds it more arguments.
 */
#ifndef SEA_APP_OPTIONS_H
#define SEA_APP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/opt.h"

/* A parsed command line. */
struct sea__options {
    struct sea__opt_values values; /* every option's: the modules', then the application's */
    char **args;                   /* positional arguments (NULL-terminated, malloc'ed) */
    int nargs;
};

/*
 * Parses argv against every module's options and the application's
 * (sea_app_add_options).  A pure function: it never prints or exits, so it
 * can be tested and fuzzed in-process.  Returns 0, 1 when --help was given,
 * or SEA_EUSAGE with a one-line message naming the option in err.  Free *o
 * with sea__options_free whatever it returns.
 */
int sea__options_parse(int argc, char **argv, struct sea__options *o, char *err, size_t errlen);
void sea__options_free(struct sea__options *o);
/* Prints the usage: the standard options, module by module, then the application's. */
void sea__options_print_help(FILE *f, const char *prog);
/* The options running now (set by app.c on every shard), for the sea_option_* getters. */
void sea__options_set_current(const struct sea__options *o);
/* Marks the application's option tables as in use (1) or free to change (0). */
void sea__options_lock(bool locked);

/*
 * Options file (options_file.c): reads path's "name = value" lines into
 * "--name=value" arguments (*args, *nargs; free with sea__options_file_free),
 * checking each line alone so that an error names the file and line.
 */
int sea__options_file_read(const char *path, char ***args, int *nargs, char *err, size_t errlen);
void sea__options_file_free(char **args, int nargs);

#endif
