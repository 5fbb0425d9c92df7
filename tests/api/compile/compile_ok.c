/* Must compile cleanly (-Wall -Wextra -Werror): the control for tests/compile_fail/. */
#include <sea/sea.h>

struct two {
    int a, b;
};

static sea_future step(struct two *c, sea_value v) {
    return sea_ready_int(c->a + c->b + v.i);
}
static sea_future wrapped(struct two *c, sea_future *in) {
    (void)c;
    return sea_future_move(in);
}
static sea_future fin(sea_nocapture *c) {
    (void)c;
    return sea_ready();
}
static sea_future handle(int *c, int err, const char *msg) {
    (void)msg;
    return sea_ready_int(*c + err);
}

sea_future use(void);
sea_future use(void) {
    struct two t = {1, 2};
    sea_future f = sea_then(sea_sleep(1), step, t);
    f = sea_then(f, step, (struct two){.a = 1, .b = 2});
    f = sea_then_wrapped(f, wrapped, (struct two){3, 4});
    f = sea_finally(f, fin, SEA_NOCAPTURE);
    f = sea_handle_error(f, handle, (int){5});
    sea_future_ignore(sea_yield());
    sea_future_detach(sea_sleep(2));
    return f;
}
