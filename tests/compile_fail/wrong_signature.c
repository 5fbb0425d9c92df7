/* Must not compile: the continuation's value parameter has the wrong type. */
/* expect: sea_then: step must be  sea_future step\(T \*capture, sea_value value\) */
#include <sea/sea.h>

struct a {
    int x;
};

static sea_future step(struct a *c, int v) {
    return sea_ready_int(c->x + v);
}

sea_future use(void);
sea_future use(void) {
    return sea_then(sea_sleep(1), step, (struct a){.x = 1});
}
