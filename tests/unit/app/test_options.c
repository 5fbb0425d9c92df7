/*
 * test_options.c - the command-line parser (app/options.h) in process: every
 * module's options and the application's, exact cases and 200,000 random
 * argument vectors built from option fragments and random bytes (it must
 * never crash and must return 0, 1 or SEA_EUSAGE with a one-line message);
 * application option declarations; 3,000 fuzzed options files.
 */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/options.h"

/* ---- the parser, in process ---- */

struct parsed {
    int rc;
    struct sea__options o;
    char err[256];
};

static struct parsed parse(int argc, const char *const *argv) {
    struct parsed p;
    memset(&p, 0, sizeof(p));
    strcpy(p.err, "untouched");
    p.rc = sea__options_parse(argc, (char **)argv, &p.o, p.err, sizeof(p.err));
    return p;
}

/* A parsed option's value, by name. */
static const char *o_str(struct parsed *p, const char *name) {
    return sea__opt_string(&p->o.values, name);
}
static int64_t o_int(struct parsed *p, const char *name) {
    return sea__opt_int(&p->o.values, name);
}
static double o_double(struct parsed *p, const char *name) {
    return sea__opt_double(&p->o.values, name);
}
static bool o_flag(struct parsed *p, const char *name) {
    return sea__opt_flag(&p->o.values, name);
}

#define ARGV(...) ((const char *const[]){"prog", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((const char *const[]){"prog", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(...) parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static sea_future t_parse_values(void) {
    struct parsed p = parse(1, (const char *const[]){"prog", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK(o_str(&p, "reactor-backend") == NULL);
    CHECK(!o_flag(&p, "poll-mode"));
    CHECK(!o_flag(&p, "help"));
    CHECK(o_double(&p, "task-quota-ms") == 0.5);
    CHECK_EQ(o_int(&p, "idle-poll-us"), 200);
    CHECK_EQ(o_int(&p, "blocked-reactor-notify-ms"), 25);
    CHECK_EQ(o_int(&p, "stop-report-ms"), 5000);
    CHECK(!sea__opt_given(&p.o.values, "prometheus-port"));
    CHECK_EQ(p.o.nargs, 0);
    CHECK(p.o.args && p.o.args[0] == NULL);
    sea__options_free(&p.o);

    p = PARSE("--reactor-backend=epoll", "--poll-mode", "--idle-poll-us", "7", "--task-quota-ms=2.5");
    CHECK_EQ(p.rc, 0);
    CHECK_STREQ(o_str(&p, "reactor-backend"), "epoll");
    CHECK(o_flag(&p, "poll-mode"));
    CHECK_EQ(o_int(&p, "idle-poll-us"), 7);
    CHECK(o_double(&p, "task-quota-ms") == 2.5);
    sea__options_free(&p.o);

    p = PARSE("--reactor-backend", "io_uring", "--task-quota-ms", "0.001", "--idle-poll-us=10000000");
    CHECK_EQ(p.rc, 0);
    CHECK_STREQ(o_str(&p, "reactor-backend"), "io_uring");
    CHECK(o_double(&p, "task-quota-ms") == 0.001);
    CHECK_EQ(o_int(&p, "idle-poll-us"), 10000000);
    sea__options_free(&p.o);

    /* The last occurrence wins. */
    p = PARSE("--task-quota-ms=1", "--task-quota-ms=3");
    CHECK(o_double(&p, "task-quota-ms") == 3.0);
    sea__options_free(&p.o);

    /* Short spellings, and a repeatable option keeps every value in order. */
    p = PARSE("-c", "2", "-m64M", "--logger-log-level", "a=info", "--logger-log-level=b=trace");
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(o_int(&p, "smp"), 2);
    CHECK_EQ(sea__opt_size(&p.o.values, "memory"), 64u << 20);
    size_t nlevels = 0;
    const char *const *levels = sea__opt_list(&p.o.values, "logger-log-level", &nlevels);
    CHECK_EQ(nlevels, 2);
    if (nlevels == 2) {
        CHECK_STREQ(levels[0], "a=info");
        CHECK_STREQ(levels[1], "b=trace");
    }
    sea__options_free(&p.o);

    /* --help: 1. */
    p = PARSE("--poll-mode", "--help");
    CHECK_EQ(p.rc, 1);
    CHECK(o_flag(&p, "help"));
    sea__options_free(&p.o);
    return sea_ready();
}

static sea_future t_parse_positional(void) {
    struct parsed p = PARSE("a", "--poll-mode", "-", "b", "--", "--help", "-x", "");
    CHECK_EQ(p.rc, 0);
    CHECK(o_flag(&p, "poll-mode"));
    CHECK(!o_flag(&p, "help"));
    CHECK_EQ(p.o.nargs, 6);
    const char *want[] = {"a", "-", "b", "--help", "-x", ""};
    for (int i = 0; i < 6 && i < p.o.nargs; i++)
        CHECK_STREQ(p.o.args[i], want[i]);
    CHECK(p.o.args[p.o.nargs] == NULL);
    sea__options_free(&p.o);
    /* An option's value is taken even if it looks like an option. */
    p = PARSE("--reactor-backend", "--poll-mode");
    CHECK_EQ(p.rc, SEA_EUSAGE);
    sea__options_free(&p.o);
    /* "--" as a value. */
    p = PARSE("--idle-poll-us", "--");
    CHECK_EQ(p.rc, SEA_EUSAGE);
    sea__options_free(&p.o);
    return sea_ready();
}

static sea_future t_parse_errors(void) {
    static const char *const bad[][2] = {
        {"--bogus"}, {"-p"}, {"--poll-mode=maybe"}, {"--help="}, {"--reactor-backend=EPOLL"},
        {"--reactor-backend"}, {"--idle-poll-us=+5"}, {"--idle-poll-us=0x5"}, {"--idle-poll-us="},
        {"--idle-poll-us=18446744073709551616"}, {"--task-quota-ms=-0.5"}, {"--task-quota-ms=1e3000"},
        {"--task-quota-ms=infinity"}, {"--task-quota-ms=1.0.0"}, {"--task-quota-ms=e"}, {"--task-quota-ms=."},
        {"--task-quota-ms", ""}, {"--reactor-backend", ""},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[4] = {"prog", bad[i][0], bad[i][1], NULL};
        int argc = bad[i][1] ? 3 : 2;
        struct parsed p = parse(argc, argv);
        if (p.rc != SEA_EUSAGE || !p.err[0] || strcmp(p.err, "untouched") == 0 || strchr(p.err, '\n')) {
            fprintf(stderr, "  %s %s: rc %d, err \"%s\"\n", bad[i][0], bad[i][1] ? bad[i][1] : "", p.rc, p.err);
            failures++;
        }
        sea__options_free(&p.o);
    }
    CHECK_EQ(failures, 0);
    /* An application option's short name: -i3, -i 3, -i=3; a flag's -f and -ff, not -fx. */
    struct parsed p = parse(2, (const char *const[]){"prog", "-i3", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(o_int(&p, "fz-int"), 3);
    sea__options_free(&p.o);
    p = parse(3, (const char *const[]){"prog", "-i", "-4", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(o_int(&p, "fz-int"), -4);
    sea__options_free(&p.o);
    p = parse(2, (const char *const[]){"prog", "-i=9", NULL});
    CHECK_EQ(p.rc, SEA_EUSAGE); /* out of bounds */
    sea__options_free(&p.o);
    p = parse(2, (const char *const[]){"prog", "-f", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK(o_flag(&p, "fz-flag"));
    sea__options_free(&p.o);
    p = parse(2, (const char *const[]){"prog", "-ff", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK(o_flag(&p, "fz-flag"));
    sea__options_free(&p.o);
    p = parse(2, (const char *const[]){"prog", "-fx", NULL});
    CHECK_EQ(p.rc, SEA_EUSAGE);
    CHECK(strstr(p.err, "takes no value") != NULL);
    sea__options_free(&p.o);
    /* Degenerate vectors. */
    p = parse(0, (const char *const[]){NULL});
    CHECK_EQ(p.rc, 0);
    sea__options_free(&p.o);
    p = parse(0, NULL);
    CHECK_EQ(p.rc, 0);
    sea__options_free(&p.o);
    p = parse(3, NULL);
    CHECK_EQ(p.rc, SEA_EUSAGE);
    CHECK(p.err[0] != '\0');
    sea__options_free(&p.o);
    p = parse(-1, (const char *const[]){NULL});
    CHECK_EQ(p.rc, SEA_EUSAGE);
    sea__options_free(&p.o);
    /* A NULL before argc ends the vector. */
    p = parse(4, (const char *const[]){"prog", "--poll-mode", NULL, "--bogus", NULL});
    CHECK_EQ(p.rc, 0);
    CHECK(o_flag(&p, "poll-mode"));
    sea__options_free(&p.o);
    /* A value required but the vector ends (NULL) early. */
    p = parse(3, (const char *const[]){"prog", "--task-quota-ms", NULL, NULL});
    CHECK_EQ(p.rc, SEA_EUSAGE);
    sea__options_free(&p.o);
    /* A tiny error buffer: truncated, terminated. */
    struct sea__options o;
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    CHECK_EQ(sea__options_parse(2, (char *[]){"prog", "--bogus-option", NULL}, &o, tiny, sizeof(tiny)), SEA_EUSAGE);
    CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
    sea__options_free(&o);
    char *help = NULL;
    size_t help_len = 0;
    FILE *hf = open_memstream(&help, &help_len);
    sea__options_print_help(hf, "prog");
    fclose(hf);
    CHECK(help && strstr(help, "--task-quota-ms") != NULL && strstr(help, "--prometheus-port") != NULL);
    free(help);
    return sea_ready();
}

/* ---- application options: declarations, and the options file under fuzz ---- */

static sea_future t_user_options(void) {
    /* Declaring while an application runs is refused. */
    static const sea_option late[] = {{.name = "late", .type = SEA_OPTION_INT}};
    CHECK_EQ(sea_app_add_options(late, 1), -EBUSY);
    /* Values of the running application: the harness gave none, so the defaults. */
    CHECK_EQ(sea_option_int("fz-int"), 0);
    CHECK_EQ(sea_option_size("fz-size"), 4096);
    const char *text = "x";
    CHECK_EQ(sea_option_get_string("fz-text", &text), -ENODATA);
    CHECK(!sea_option_given("fz-int"));
    double d;
    CHECK_EQ(sea_option_get_double("fz-int", &d), -EINVAL);
    CHECK_EQ(sea_option_get_double("nope", &d), -ENOENT);
    /* Parsing with them. */
    struct sea__options o;
    char err[256];
    CHECK_EQ(sea__options_parse(4, (char *[]){"p", "--fz-int=-5", "--fz-flag", "--fz-text=a b", NULL}, &o, err,
                                sizeof(err)),
             0);
    const struct sea__opt_value *fi = sea__opt_find(&o.values, "fz-int", 6);
    const struct sea__opt_value *ff = sea__opt_find(&o.values, "fz-flag", 7);
    const struct sea__opt_value *ft = sea__opt_find(&o.values, "fz-text", 7);
    CHECK(fi && fi->v.i == -5 && fi->given && ff && ff->v.flag && ft && !strcmp(ft->v.s, "a b"));
    sea__options_free(&o);
    CHECK_EQ(sea__options_parse(2, (char *[]){"p", "--fz-int=6", NULL}, &o, err, sizeof(err)), SEA_EUSAGE);
    CHECK_STREQ(err, "option '--fz-int': '6' is not a whole number in -5..5");
    sea__options_free(&o);
    return sea_ready();
}

static sea_future t_fuzz_options_file(void) {
    static const char *const pieces[] = {"fz-int", "fz-flag", "fz-text", "smp", "memory", "=", " = ", " ", "\t",
                                         "#", "\n", "\n", "\n", "1", "-5", "yes", "maybe", "1G", "x", "options-file",
                                         "help", "\xff", "\r\n", "poll-mode", "true", "false", "==", "--fz-int"};
    char path[] = "/tmp/sea-test-options-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    uint64_t rng = 0xf11e;
    int ok = 0, rejected = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        FILE *f = fopen(path, "w");
        int n = (int)(sea_test_rand(&rng) % 24);
        for (int k = 0; k < n; k++)
            fputs(pieces[sea_test_rand(&rng) % (sizeof(pieces) / sizeof(pieces[0]))], f);
        fclose(f);
        char **args = NULL;
        int nargs = -1;
        char err[512] = "";
        int rc = sea__options_file_read(path, &args, &nargs, err, sizeof(err));
        if (rc == 0) {
            ok++;
            /* What the file gave parses as a command line. */
            char *argv[64] = {"p"};
            int argc = 1;
            for (int i = 0; i < nargs && argc < 63; i++)
                argv[argc++] = args[i];
            argv[argc] = NULL;
            struct sea__options o;
            if (sea__options_parse(argc, argv, &o, err, sizeof(err)) < 0)
                bad++;
            sea__options_free(&o);
            sea__options_file_free(args, nargs);
        } else {
            rejected++;
            if (!strstr(err, path) || strchr(err, '\n') || args || nargs != 0)
                bad++;
        }
    }
    unlink(path);
    CHECK_EQ(bad, 0);
    CHECK(ok > 100 && rejected > 100);
    return sea_ready();
}

/* ---- fuzz ---- */

static const char *const fragments[] = {
    "--", "-", "--reactor-backend", "--reactor-backend=", "=", "io_uring", "epoll", "--poll-mode", "--help",
    "--idle-poll-us", "--idle-poll-us=", "--task-quota-ms", "--task-quota-ms=", "0", "1", "0.5", "1e3",
    "1e-3", "-1", "+", ".", "e", "10000000", "10000001", "1000", "0.001", "nan", "inf", "0x1p3", "99999999999999999999",
    " ", "\t", "\xff", "\xc3\xa9", "%s", "%n", "%%", "help", "poll-mode", "reactor", "x", "",
    "-m", "--memory", "--memory=", "--reserve-memory", "--reserve-memory=", "1G", "64M", "k", "T", "-c",
    /* the operability options and the application's (declared in main) */
    "--default-log-level", "--logger-log-level", "sea=", "trace", "error", "--prometheus-port", "65535",
    "--prometheus-address", "--blocked-reactor-notify-ms", "--stop-report-ms", "--log-to-syslog",
    "--fz-int", "--fz-int=", "--fz-double=", "--fz-size=", "--fz-text", "--fz-flag", "--fz-flag=", "true", "no",
};

static sea_future t_fuzz_parser(void) {
    uint64_t rng = 0x5eed;
    static char storage[16][96];
    const char *argv[18];
    int bad = 0, counts[3] = {0, 0, 0};
    for (int iter = 0; iter < 200000; iter++) {
        int argc = 1 + (int)(sea_test_rand(&rng) % 16);
        argv[0] = "prog";
        for (int a = 1; a < argc; a++) {
            char *s = storage[a];
            size_t len = 0;
            int pieces = (int)(sea_test_rand(&rng) % 4);
            for (int k = 0; k < pieces; k++) {
                const char *frag;
                char rnd[8];
                if (sea_test_rand(&rng) % 5 == 0) {
                    /* Random bytes (no NUL). */
                    int n = 1 + (int)(sea_test_rand(&rng) % 6);
                    for (int b = 0; b < n; b++)
                        rnd[b] = (char)(1 + sea_test_rand(&rng) % 255);
                    rnd[n] = '\0';
                    frag = rnd;
                } else {
                    frag = fragments[sea_test_rand(&rng) % (sizeof(fragments) / sizeof(fragments[0]))];
                }
                size_t fl = strlen(frag);
                if (len + fl >= sizeof(storage[a]))
                    break;
                memcpy(s + len, frag, fl);
                len += fl;
            }
            s[len] = '\0';
            argv[a] = s;
        }
        argv[argc] = NULL;
        /* Sometimes claim more arguments than there are before the NULL. */
        int claimed = argc + (sea_test_rand(&rng) % 8 == 0 ? 1 : 0);
        struct sea__options o;
        char err[128];
        err[0] = '\0';
        int rc = sea__options_parse(claimed, (char **)argv, &o, err, sizeof(err));
        if (rc == 0 || rc == 1) {
            counts[rc]++;
            if (o.nargs < 0 || o.nargs >= claimed || !o.args || o.args[o.nargs] != NULL)
                bad++;
            double quota = sea__opt_double(&o.values, "task-quota-ms");
            int64_t idle = sea__opt_int(&o.values, "idle-poll-us");
            if (quota < 0.001 || quota > 1000 || idle < 0 || idle > 10000000)
                bad++;
            if (rc == 1 && !sea__opt_flag(&o.values, "help"))
                bad++;
            for (size_t u = 0; u < o.values.n; u++) {
                const struct sea__opt_value *v = &o.values.v[u];
                if ((v->opt->flags & SEA__OPT_APP) && v->opt->o.type == SEA_OPTION_INT && v->has_value &&
                    (v->v.i < -5 || v->v.i > 5))
                    bad++; /* outside its declared bounds */
            }
        } else if (rc == SEA_EUSAGE) {
            counts[2]++;
            if (!err[0] || strchr(err, '\n'))
                bad++;
        } else {
            bad++;
        }
        if (bad == 1) {
            fprintf(stderr, "  fuzz iteration %d: rc %d, err \"%s\"\n", iter, rc, err);
            bad++;
        }
        sea__options_free(&o);
    }
    CHECK_EQ(bad, 0);
    /* The dictionary reaches every outcome. */
    CHECK(counts[0] > 1000);
    CHECK(counts[1] > 100);
    CHECK(counts[2] > 1000);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_parse_values),
    SEA_TEST(t_parse_positional),
    SEA_TEST(t_parse_errors),
    SEA_TEST(t_fuzz_parser),
    SEA_TEST(t_user_options),
    SEA_TEST(t_fuzz_options_file),
};

/* The application options the fuzzer and t_user_options know. */
static const sea_option fuzz_options[] = {
    {.name = "fz-int", .type = SEA_OPTION_INT, .default_value = "0", .help = "bounded", .min = -5, .max = 5,
     .short_name = 'i'},
    {.name = "fz-double", .type = SEA_OPTION_DOUBLE, .help = "a number"},
    {.name = "fz-size", .type = SEA_OPTION_SIZE, .default_value = "4k", .help = "a size"},
    {.name = "fz-text", .type = SEA_OPTION_STRING, .help = "text"},
    {.name = "fz-flag", .type = SEA_OPTION_FLAG, .help = "a flag", .short_name = 'f'},
};

int main(int argc, char **argv) {
    /* Short names must be letters or digits that no standard option (-c, -m) or earlier one has. */
    static const sea_option taken[] = {{.name = "sh-a", .type = SEA_OPTION_INT, .short_name = 'c'}};
    static const sea_option odd[] = {{.name = "sh-b", .type = SEA_OPTION_INT, .short_name = '-'}};
    static const sea_option twice[] = {{.name = "sh-c", .type = SEA_OPTION_INT, .short_name = 'q'},
                                       {.name = "sh-d", .type = SEA_OPTION_FLAG, .short_name = 'q'}};
    if (sea_app_add_options(taken, 1) != -EINVAL || sea_app_add_options(odd, 1) != -EINVAL ||
        sea_app_add_options(twice, 2) != -EINVAL)
        return 4;
    if (sea_app_add_options(fuzz_options, SEA_OPTION_COUNT(fuzz_options)) != 0)
        return 3;
    static const sea_option again[] = {{.name = "sh-e", .type = SEA_OPTION_INT, .short_name = 'i'}};
    if (sea_app_add_options(again, 1) != -EINVAL)
        return 5;
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
