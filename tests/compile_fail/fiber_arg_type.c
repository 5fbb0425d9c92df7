/* Must not compile: a fiber's function takes a pointer to another type than its capture's. */
/* expect: sea_fiber_start: worker must be  sea_future worker\(T \*capture\), where T is the type of the capture `i` */
#include <sea/sea.h>

static sea_future worker(long *i) {
    return sea_ready_int(*i);
}

sea_future use(void);
sea_future use(void) {
    int i = 3;
    return sea_fiber_start(worker, i);
}
