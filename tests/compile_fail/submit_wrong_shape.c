/* Must not compile: a function for another shard that takes a value it will never get. */
/* expect: sea_submit_to: remote must be  sea_future remote\(T \*capture\) */
#include <sea/sea.h>

static sea_future remote(int *i, sea_value v) {
    return sea_ready_int(*i + v.i);
}

sea_future use(void);
sea_future use(void) {
    return sea_submit_to(1, remote, 2);
}
