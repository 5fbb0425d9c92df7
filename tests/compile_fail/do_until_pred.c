/* Must not compile: the stop predicate of sea_do_until returns the wrong type. */
/* expect: sea_do_until: done must be  bool done\(T \*capture\)  and body must be  sea_future body\(T \*capture\) */
#include <sea/sea.h>

static int done(int *i) {
    return *i > 3;
}
static sea_future body(int *i) {
    ++*i;
    return sea_ready();
}

sea_future use(void);
sea_future use(void) {
    return sea_do_until(done, body, 0);
}
