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
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/*
 * Reads the whole of path into *text (malloc'd, *len bytes).  A regular file
 * is read at once.  Anything else (a FIFO, a character device, a process
 * substitution) is opened without blocking and read as its data comes, for
 * at most OTHER_FILE_WAIT_MS in all: a FIFO nobody writes to fails start-up
 * with a message instead of hanging it.  More than MAX_FILE_BYTES is an
 * error either way.
 */
#define OTHER_FILE_WAIT_MS 5000

static int slurp(const char *path, char **text, size_t *len, char *err, size_t errlen) {
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot read options file '%.200s': %s", path, strerror(e));
        return -e;
    }
    struct stat st = {0};
    errno = 0;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        int e = errno;
        if (e == 0 || S_ISDIR(st.st_mode))
            e = EISDIR;
        close(fd);
        snprintf(err, errlen, "cannot read options file '%.200s': %s", path, strerror(e));
        return -e;
    }
    bool regular = S_ISREG(st.st_mode), fifo = S_ISFIFO(st.st_mode), writer_gone = false;
    char *buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "cannot read options file '%.200s': out of memory", path);
        return -ENOMEM;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t got = 0;
    int rc = 0;
    while (got <= MAX_FILE_BYTES) {
        ssize_t n = read(fd, buf + got, MAX_FILE_BYTES + 1 - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        /* The end.  A FIFO reads as ended before any writer has opened it
         * (O_NONBLOCK), so an empty FIFO waits below until a writer has
         * come and gone (POLLHUP) or the time is up. */
        if (n == 0 && !(fifo && got == 0 && !writer_gone))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno != EAGAIN || regular)) {
            rc = -errno;
            snprintf(err, errlen, "cannot read options file '%.200s': %s", path, strerror(errno));
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int ready = waited < OTHER_FILE_WAIT_MS ? poll(&pf, 1, (int)(OTHER_FILE_WAIT_MS - waited)) : 0;
        if (ready > 0 && (pf.revents & POLLHUP) && !(pf.revents & POLLIN))
            writer_gone = true;
        if (ready == 0) {
            rc = SEA_EUSAGE;
            snprintf(err, errlen,
                     "options file '%.200s' is not a regular file and its data did not come within %d s "
                     "(a FIFO needs a writer that writes and closes it)",
                     path, OTHER_FILE_WAIT_MS / 1000);
            break;
        }
    }
    close(fd);
    if (rc == 0 && got > MAX_FILE_BYTES) {
        snprintf(err, errlen, "%.200s: larger than %d bytes", path, MAX_FILE_BYTES);
        rc = SEA_EUSAGE;
    }
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *text = buf;
    *len = got;
    return 0;
}

int sea__options_file_read(const char *path, char ***args_out, int *nargs_out, char *err, size_t errlen) {
    *args_out = NULL;
    *nargs_out = 0;
    char *text;
    size_t text_len;
    int src = slurp(path, &text, &text_len, err, errlen);
    if (src < 0)
        return src;
    if (text_len == 0) { /* an empty file: no options */
        free(text);
        return 0;
    }
    FILE *f = fmemopen(text, text_len, "r");
    if (!f) {
        int e = errno;
        free(text);
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
    free(text);
    if (rc < 0) {
        sea__options_file_free(args, nargs);
        return rc;
    }
    *args_out = args;
    *nargs_out = nargs;
    return 0;
}
