/* Must not compile: the old untyped fiber argument (void *) instead of a typed capture. */
/* expect: sea_fiber_start: worker must be  sea_future worker\(T \*capture\), where T is the type of the capture `&i` */
#include <sea/sea.h>

static sea_future worker(void *arg) {
    return sea_ready_int(*(int *)arg);
}

sea_future use(void);
sea_future use(void) {
    static int i = 3;
    return sea_fiber_start(worker, &i);
}
