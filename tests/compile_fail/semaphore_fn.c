/* Must not compile: sea_with_semaphore's function has the wrong capture type. */
/* expect: sea_with_semaphore: work must be  sea_future work\(T \*capture\), where T is the type of the capture `\(struct job\)\{1\}` */
#include <sea/sea.h>

struct job {
    int n;
};

static sea_future work(int *n) {
    return sea_ready_int(*n);
}

sea_future use(sea_semaphore *s);
sea_future use(sea_semaphore *s) {
    return sea_with_semaphore(s, 1, work, (struct job){1});
}
