/* Must not compile: the continuation expects a different capture type. */
/* expect: sea_then: step must be  sea_future step\(T \*capture, sea_value value\)  or  sea_future step\(T \*capture\), where T is the type of the capture `\(struct b\)\{.y = 1\}` */
#include <sea/sea.h>

struct a {
    int x;
};
struct b {
    int y;
};

static sea_future step(struct a *c, sea_value v) {
    return sea_ready_int(c->x + v.i);
}

sea_future use(void);
sea_future use(void) {
    return sea_then(sea_sleep(1), step, (struct b){.y = 1});
}
