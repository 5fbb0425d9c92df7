/* Must not compile: a loop body that takes no capture, given one. */
/* expect: sea_repeat: body must be  sea_future body\(T \*capture\), where T is the type of the capture `0` */
#include <sea/sea.h>

static sea_future body(void) {
    return sea_stop();
}

sea_future use(void);
sea_future use(void) {
    return sea_repeat(body, 0);
}
