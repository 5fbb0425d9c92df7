/* Must not compile under -Werror: the future of a sea_then is dropped. */
/* expect: ignoring return value of .sea__then.|ignoring return value of function declared with .warn_unused_result. */
#include <sea/sea.h>

static sea_future step(void) {
    return sea_ready();
}

void use(void);
void use(void) {
    sea_then(sea_sleep(1), step);
}
