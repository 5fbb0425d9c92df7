/* Must not compile: the capture's initializer names a field that does not exist. */
/* expect: has no member named .cuont.|field designator .cuont. does not refer to any field */
#include <sea/sea.h>

struct a {
    int count;
};

static sea_future step(struct a *c) {
    return sea_ready_int(c->count);
}

sea_future use(void);
sea_future use(void) {
    return sea_then(sea_sleep(1), step, (struct a){.cuont = 1});
}
