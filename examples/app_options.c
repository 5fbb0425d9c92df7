/*
 * app_options.c - tutorial section 13: the application's own command-line
 * options, and a logger.
 *
 *     app_options --greeting=Hello --times=2
 *     app_options --help                      (shows them under "Application options")
 *     app_options --options-file=greet.conf   (lines such as "times = 3")
 */
#include <sea/sea.h>

#include <stdio.h>

SEA_LOGGER(greet_log, "greet");
static const sea_option options[] = {
    {.name = "greeting", .type = SEA_OPTION_STRING, .default_value = "Hello", .help = "what to say"},
    {.name = "times", .type = SEA_OPTION_INT, .default_value = "1", .help = "how many times", .min = 1, .max = 100},
};

static sea_future app_main(void) {
    int64_t times = sea_option_int("times"); /* readable on every shard */
    for (int64_t i = 0; i < times; i++)
        printf("%s\n", sea_option_string("greeting"));
    sea_log_debug(&greet_log, "greeted %lld times", (long long)times);
    return sea_ready();
}

int main(int argc, char **argv) {
    sea_app_add_options(options, SEA_OPTION_COUNT(options));
    return sea_app_run(argc, argv, app_main);
}
