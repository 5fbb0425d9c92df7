/*
 * sea/rwlock.h - reader-writer locks for futures.
 *
 * Any number of readers, or one writer.  Built on a FIFO semaphore: a
 * reader takes one unit, a writer all of them; so a waiting writer holds back
 * the readers that come after it, and writers do not starve.
 *
 *     return sea_with_write_lock(&lock, update_table, (struct update){...});
 */
#ifndef SEA_RWLOCK_H
#define SEA_RWLOCK_H

#include <sea/semaphore.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Units of the underlying semaphore: the most readers at once. */
#define SEA_RWLOCK_MAX_READERS ((int64_t)1 << 40)

/* Fields are private. */
typedef struct sea_rwlock {
    sea_semaphore sea__sem;
} sea_rwlock;

/* A static initialiser, the same as sea_rwlock_init: static sea_rwlock l = SEA_RWLOCK_INIT; */
#define SEA_RWLOCK_INIT {SEA_SEMAPHORE_INIT_BOUNDED(SEA_RWLOCK_MAX_READERS)}
static inline void sea_rwlock_init(sea_rwlock *l) {
    sea_semaphore_init_bounded(&l->sea__sem, SEA_RWLOCK_MAX_READERS);
}
/* Fails the waiters with SEA_EBROKEN. */
static inline void sea_rwlock_destroy(sea_rwlock *l) {
    sea_semaphore_destroy(&l->sea__sem);
}
/* Resolves once the lock is held for reading (or writing); fails with -ENOMEM. */
SEA_MUST_USE static inline sea_future sea_rwlock_read_lock(sea_rwlock *l) {
    return sea_semaphore_wait(&l->sea__sem, 1);
}
SEA_MUST_USE static inline sea_future sea_rwlock_write_lock(sea_rwlock *l) {
    return sea_semaphore_wait(&l->sea__sem, SEA_RWLOCK_MAX_READERS);
}
static inline bool sea_rwlock_try_read_lock(sea_rwlock *l) {
    return sea_semaphore_try_wait(&l->sea__sem, 1);
}
static inline bool sea_rwlock_try_write_lock(sea_rwlock *l) {
    return sea_semaphore_try_wait(&l->sea__sem, SEA_RWLOCK_MAX_READERS);
}
static inline void sea_rwlock_read_unlock(sea_rwlock *l) {
    sea_semaphore_signal(&l->sea__sem, 1);
}
static inline void sea_rwlock_write_unlock(sea_rwlock *l) {
    sea_semaphore_signal(&l->sea__sem, SEA_RWLOCK_MAX_READERS);
}
/* True while a writer holds the lock or readers do (some units are out). */
static inline bool sea_rwlock_locked(const sea_rwlock *l) {
    return sea_semaphore_available(&l->sea__sem) < SEA_RWLOCK_MAX_READERS;
}

/* sea_with_read_lock(l, fn [, capture]) / sea_with_write_lock: as sea_with_semaphore (fibers included). */
#define sea_with_read_lock(l, ...) sea_with_semaphore(&(l)->sea__sem, 1, __VA_ARGS__)
#define sea_with_write_lock(l, ...) sea_with_semaphore(&(l)->sea__sem, SEA_RWLOCK_MAX_READERS, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
