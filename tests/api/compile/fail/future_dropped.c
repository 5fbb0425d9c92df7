/* Must not compile under -Werror: a future is dropped. */
#include <sea/sea.h>

void use(void);
void use(void) {
    sea_sleep(1);
}
