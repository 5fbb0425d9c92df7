/* Must not compile: sea_handle_error's function takes the value instead of the error. */
/* expect: sea_handle_error: recover must be  sea_future recover\(int err, const char \*msg\)  \(no capture was given\) */
#include <sea/sea.h>

static sea_future recover(sea_value v) {
    return sea_ready_int(v.i);
}

sea_future use(void);
sea_future use(void) {
    return sea_handle_error(sea_sleep(1), recover);
}
