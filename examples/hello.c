/*
 * hello.c - tutorial section 2: the simplest sea program.
 *
 * sea_app_run starts the reactor, runs app_main once and exits when the
 * future it returns resolves; a ready future means "exit now".  sea_print is
 * printf for code that runs on a shard: it never blocks the shard.
 */
#include <sea/sea.h>

static sea_future app_main(void) {
    sea_print("Hello world\n");
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
