/* Must not compile under -Werror: a future is dropped. */
/* expect: ignoring return value of .sea_sleep.|ignoring return value of function declared with .warn_unused_result. */
#include <sea/sea.h>

void use(void);
void use(void) {
    sea_sleep(1);
}
