/* Must not compile: SEA_AWAIT returns a failed future, so it belongs in a function returning sea_future. */
/* expect: incompatible types when returning type .sea_future.|returning .sea_future. .* from a function with incompatible result type */
#include <sea/sea.h>

int use(void);
int use(void) {
    sea_value v = SEA_AWAIT(sea_sleep(1));
    return (int)v.i;
}
