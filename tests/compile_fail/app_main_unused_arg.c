/* Must not compile: a main with an argument but no capture (the old void *arg form). */
/* expect: sea_app_run: app_main must be  sea_future app_main\(void\)  \(no capture was given\) */
#include <sea/sea.h>

static sea_future app_main(void *arg) {
    return sea_ready_ptr(arg);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
