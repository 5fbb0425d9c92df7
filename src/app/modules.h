/*
 * app/modules.h - the modules a sea program is made of, in the order they
 * start (modules.c): the one place that names them all, as nginx's module
 * list does.  The application template and the option parser walk it.
 */
#ifndef SEA_APP_MODULES_H
#define SEA_APP_MODULES_H

#include <stddef.h>

#include "core/module.h"

extern const struct sea__module *const sea__app_modules[];
extern const size_t sea__app_module_count;

/* The application template's own options (-c, --cpuset, --stop-report-ms, --options-file, --help): app_module.c. */
extern const struct sea__module sea__module_app;

#endif
