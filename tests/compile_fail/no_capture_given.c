/* Must not compile: the continuation wants a capture and none was given. */
/* expect: sea_then: step must be  sea_future step\(sea_value value\)  or  sea_future step\(void\)  \(no capture was given\) */
#include <sea/sea.h>

static sea_future step(int *i) {
    return sea_ready_int(*i);
}

sea_future use(void);
sea_future use(void) {
    return sea_then(sea_sleep(1), step);
}
