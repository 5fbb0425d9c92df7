/* Must not compile: the continuation expects a different capture type. */
#include <sea/sea.h>

struct a { int x; };
struct b { int y; };

static sea_future step(struct a *c, sea_value v) {
    return sea_ready_int(c->x);
}

sea_future use(void);
sea_future use(void) {
    return sea_then(sea_sleep(1), step, (struct b){.y = 1});
}
