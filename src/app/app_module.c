/*
 * app_module.c - the application template's own options, as a module of
 * their own: -c/--smp, --cpuset, --stop-report-ms, --options-file, --help.
 * The template (app.c) reads their values; the parser (options.c) and
 * --help find them in the module list like every other module's.
 */
#include "app/modules.h"

#include "base/text.h"

static bool is_cpuset(const char *v) {
    cpu_set_t set;
    return sea__parse_cpuset(v, &set);
}

static const struct sea__opt options[] = {
    {.o = {.name = "smp", .type = SEA_OPTION_INT, .min = 1, .max = 4096,
           .help = "number of shards (threads, one per CPU); default: every CPU the process may use"},
     .short_name = 'c', .value_name = "N", .meaning = "a number of shards in 1..4096"},
    {.o = {.name = "cpuset", .type = SEA_OPTION_STRING,
           .help = "CPUs to run on, e.g. 0-3,8 (default: the process's CPU affinity)"},
     .value_name = "LIST", .meaning = "a CPU list such as 0-3,8 (CPUs below 1024)", .check = is_cpuset},
    {.o = {.name = "stop-report-ms", .type = SEA_OPTION_INT, .default_value = "5000", .min = 0, .max = 3600000,
           .help = "report stop callbacks still running after N ms (default 5000; 0: off)"},
     .value_name = "N", .meaning = "a whole number of milliseconds in 0..3600000"},
    {.o = {.name = "options-file", .type = SEA_OPTION_STRING,
           .help = "read options from FILE (\"name = value\" lines); the command line wins (a flag there is "
                   "undone with --flag=false)"},
     .value_name = "FILE"},
    {.o = {.name = "help", .type = SEA_OPTION_FLAG, .help = "show this help and exit"}},
};

const struct sea__module sea__module_app = {
    .name = "app",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
};
