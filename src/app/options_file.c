/*
 * options_file.c - the options file (--options-file FILE).
 *
 * Each line is "name = value" (or "name value"), with the names of the long
 * command-line options, sea's and the application's; blank lines and lines
 * starting with '#' are ignored.  A flag's value is true or false (yes/no,
 * 1/0); a false flag is simply not set.  Lines become "--name=value"
 * arguments placed before the command line's, so the command line wins.
 *
 * Every line is parsed alone first, so that a bad one is reported with the
 * file and line: "app.conf:3: option '--smp': 'x' is not a number ...".
 */
#include "app/options.h"

#include <sea/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (1 << 20)
#define MAX_LINE 4096

void sea__options_file_free(char **args, int nargs) {
    for (int i = 0; i < nargs; i++)
        free(args[i]);
    free(args);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Turns one line into an argument in *arg (NULL for a line that sets nothing). */
static int line_to_arg(char *line, char **arg, char *err, size_t errlen) {
    *arg = NULL;
    char *s = trim(line);
    if (!*s || *s == '#')
        return 0;
    size_t nlen = strcspn(s, " \t=");
    char *rest = trim(s + nlen);
    if (*rest == '=')
        rest = trim(rest + 1);
    s[nlen] = '\0';
    if (nlen == 0) {
        snprintf(err, errlen, "expected \"name = value\"");
        return SEA_EUSAGE;
    }
    if (strcmp(s, "options-file") == 0) {
        snprintf(err, errlen, "an options file cannot name another");
        return SEA_EUSAGE;
    }
    /* Flags: decided by parsing "--name" alone; a false value leaves the option unset. */
    bool is_false = strcmp(rest, "false") == 0 || strcmp(rest, "no") == 0 || strcmp(rest, "0") == 0;
    bool is_true = strcmp(rest, "true") == 0 || strcmp(rest, "yes") == 0 || strcmp(rest, "1") == 0;
    size_t need = nlen + strlen(rest) + 4;
    char *a = malloc(need);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(a, need, "--%s", s);
    struct sea__options probe;
    char perr[256];
    char *flag_argv[] = {"sea", a, NULL};
    int frc = sea__options_parse(2, flag_argv, &probe, perr, sizeof(perr));
    sea__options_free(&probe);
    bool is_flag = frc >= 0 && (strcmp(s, "help") != 0 && strcmp(s, "help-loggers") != 0);
    if (frc >= 0 && !is_flag) {
        free(a);
        snprintf(err, errlen, "option '%s' does not belong in an options file", s);
        return SEA_EUSAGE;
    }
    if (is_flag) {
        if (!is_true && !is_false && *rest) {
            free(a);
            snprintf(err, errlen, "option '--%s': '%.60s' is not true or false", s, rest);
            return SEA_EUSAGE;
        }
        if (is_false) {
            free(a);
            return 0;
        }
        *arg = a;
        return 0;
    }
    snprintf(a, need, "--%s=%s", s, rest);
    *arg = a;
    return 0;
}

int sea__options_file_read(const char *path, char ***args_out, int *nargs_out, char *err, size_t errlen) {
    *args_out = NULL;
    *nargs_out = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot read options file '%.200s': %s", path, strerror(e));
        return -e;
    }
    char **args = NULL;
    int nargs = 0, lineno = 0, rc = 0;
    size_t total = 0;
    char line[MAX_LINE + 1];
    for (;;) {
        /* One line, by hand: bounded whatever the file is (a FIFO, /dev/zero), and NUL bytes seen. */
        size_t len = 0;
        bool nul = false, too_long = false;
        int ch;
        while ((ch = getc(f)) != EOF && ch != '\n') {
            if (++total > MAX_FILE_BYTES)
                break;
            if (ch == '\0')
                nul = true;
            if (len < MAX_LINE)
                line[len++] = (char)ch;
            else
                too_long = true;
        }
        if (ch == EOF && len == 0 && !too_long)
            break;
        line[len] = '\0';
        lineno++;
        if (total > MAX_FILE_BYTES) {
            snprintf(err, errlen, "%.200s: larger than %d bytes", path, MAX_FILE_BYTES);
            rc = SEA_EUSAGE;
            break;
        }
        if (too_long) {
            snprintf(err, errlen, "%.200s:%d: line longer than %d bytes", path, lineno, MAX_LINE);
            rc = SEA_EUSAGE;
            break;
        }
        if (nul) {
            snprintf(err, errlen, "%.200s:%d: the line holds a NUL byte", path, lineno);
            rc = SEA_EUSAGE;
            break;
        }
        char *arg;
        char lerr[256];
        rc = line_to_arg(line, &arg, lerr, sizeof(lerr));
        if (rc == 0 && arg) {
            /* Parse it alone, so that an error names this line. */
            struct sea__options probe;
            char *one[] = {"sea", arg, NULL};
            rc = sea__options_parse(2, one, &probe, lerr, sizeof(lerr));
            sea__options_free(&probe);
            if (rc >= 0) {
                char **grown = realloc(args, (size_t)(nargs + 1) * sizeof(*grown));
                if (!grown) {
                    free(arg);
                    snprintf(lerr, sizeof(lerr), "out of memory");
                    rc = -ENOMEM;
                } else {
                    args = grown;
                    args[nargs++] = arg;
                    rc = 0;
                }
            } else {
                free(arg);
            }
        }
        if (rc < 0) {
            snprintf(err, errlen, "%.200s:%d: %s", path, lineno, lerr);
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read options file '%.200s'", path);
        rc = -EIO;
    }
    fclose(f);
    if (rc < 0) {
        sea__options_file_free(args, nargs);
        return rc;
    }
    *args_out = args;
    *nargs_out = nargs;
    return 0;
}
