/*
 * module.c - the list of modules and the walks over their hooks (see
 * module.h).  The list is the application template's, handed down once;
 * core keeps the pointer so that the state dump can ask every module too.
 */
#include "core/module.h"

#include <sea/error.h>

static const struct sea__module *const *modules;
static size_t nmodules;
static size_t nstarted; /* modules whose start hook ran (start and stop are once per run) */

void sea__modules_use(const struct sea__module *const *list, size_t n) {
    modules = list;
    nmodules = n;
}

size_t sea__modules_count(void) {
    return nmodules;
}

const struct sea__module *sea__module_at(size_t i) {
    return i < nmodules ? modules[i] : NULL;
}

int sea__modules_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    for (size_t i = 0; i < nmodules; i++) {
        int rc = modules[i]->configure ? modules[i]->configure(v, err, errlen) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int sea__modules_start(const struct sea__run *run, char *err, size_t errlen) {
    for (nstarted = 0; nstarted < nmodules; nstarted++) {
        const struct sea__module *m = modules[nstarted];
        int rc = m->start ? m->start(run, err, errlen) : 0;
        if (rc < 0) {
            sea__modules_stop();
            return rc;
        }
    }
    return 0;
}

void sea__modules_stop(void) {
    while (nstarted > 0) {
        const struct sea__module *m = modules[--nstarted];
        if (m->stop)
            m->stop();
    }
}

int sea__modules_thread_start(unsigned id, char *err, size_t errlen) {
    for (size_t i = 0; i < nmodules; i++) {
        int rc = modules[i]->thread_start ? modules[i]->thread_start(id, err, errlen) : 0;
        if (rc < 0) {
            while (i-- > 0)
                if (modules[i]->thread_stop)
                    modules[i]->thread_stop(id);
            return rc;
        }
    }
    return 0;
}

void sea__modules_thread_stop(unsigned id) {
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i]->thread_stop)
            modules[i]->thread_stop(id);
}

int sea__modules_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    for (size_t i = 0; i < nmodules; i++) {
        int rc = modules[i]->shard_start ? modules[i]->shard_start(s, err, errlen) : 0;
        if (rc < 0) {
            while (i-- > 0)
                if (modules[i]->shard_stop)
                    modules[i]->shard_stop(s);
            return rc;
        }
    }
    /* Once every module's state exists: a metric may read any of it. */
    for (size_t i = 0; i < nmodules; i++) {
        int rc = modules[i]->metrics ? modules[i]->metrics(s, err, errlen) : 0;
        if (rc < 0) {
            sea__modules_shard_stop(s);
            return rc;
        }
    }
    return 0;
}

void sea__modules_shard_stop(struct sea__shard *s) {
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i]->shard_stop)
            modules[i]->shard_stop(s);
}

int sea__modules_running(struct sea__smp *smp, char *err, size_t errlen) {
    for (size_t i = 0; i < nmodules; i++) {
        int rc = modules[i]->running ? modules[i]->running(smp, err, errlen) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

void sea__modules_ended(struct sea__smp *smp) {
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i]->ended)
            modules[i]->ended(smp);
}
