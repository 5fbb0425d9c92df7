#include "check.h"

static sea_future t_ready(void) {
    sea_future f = sea_ready_int(5);
    CHECK(sea_future_available(&f));
    return f;
}
static const struct sea_test_case cases[] = {SEA_TEST(t_ready)};
int main(int argc, char **argv) { return sea_test_main(argc, argv, cases, sizeof cases / sizeof *cases); }
