/*
 * path.c - calls on paths and directories (stat, mkdir, remove, rename,
 * link, fsync of a directory, statvfs, listing), made on the syscall
 * threads: none has an asynchronous form the epoll backend could use, and
 * each may wait for the disk (a cold directory lookup, a journal commit).
 *
 * A call's arguments are copied into its job, the paths with them, so the
 * caller's strings may go as soon as the call returns.  A directory is
 * listed with getdents64 into a 32 KiB buffer on the syscall thread, a few
 * hundred entries per call, and handed out one by one on the shard.
 */
#include "disk/disk.h"

#include <sea/error.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { P_STAT, P_LSTAT, P_MKDIR, P_REMOVE, P_RENAME, P_LINK, P_DIRSYNC, P_STATVFS, P_EXISTS };

struct path_args {
    int op;
    unsigned mode;
    void *out;
    size_t len1; /* the first path's length; the second starts after its NUL */
    char paths[];
};

static long path_call(void *arg) {
    struct path_args *a = arg;
    const char *p1 = a->paths, *p2 = a->paths + a->len1 + 1;
    int rc;
    switch (a->op) {
    case P_STAT:
        rc = stat(p1, a->out);
        break;
    case P_LSTAT:
        rc = lstat(p1, a->out);
        break;
    case P_EXISTS: {
        struct stat st;
        if (stat(p1, &st) == 0)
            return 1;
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    }
    case P_MKDIR:
        rc = mkdir(p1, a->mode);
        break;
    case P_REMOVE:
        rc = unlink(p1);
        if (rc < 0 && errno == EISDIR)
            rc = rmdir(p1);
        break;
    case P_RENAME:
        rc = rename(p1, p2);
        break;
    case P_LINK:
        rc = link(p1, p2);
        break;
    case P_DIRSYNC: {
        int fd = open(p1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        rc = fsync(fd);
        int err = errno;
        close(fd);
        errno = err;
        break;
    }
    default:
        rc = statvfs(p1, a->out);
        break;
    }
    return rc < 0 ? -errno : 0;
}

static sea_future path_op(int op, const char *what, const char *p1, const char *p2, unsigned mode, void *out) {
    if (!p1 || !*p1 || ((op == P_RENAME || op == P_LINK) && (!p2 || !*p2)))
        return sea_failed_fmt(-EINVAL, "%s: an empty path", what);
    size_t l1 = strlen(p1), l2 = p2 ? strlen(p2) : 0;
    if (l1 >= PATH_MAX || l2 >= PATH_MAX)
        return sea_failed_fmt(-ENAMETOOLONG, "%s %.64s...: the path is too long", what, p1);
    size_t sz = sizeof(struct path_args) + l1 + l2 + 2;
    struct path_args *a = malloc(sz);
    if (!a)
        return sea_failed_fmt(-ENOMEM, "%s %s: out of memory", what, p1);
    a->op = op;
    a->mode = mode;
    a->out = out;
    a->len1 = l1;
    memcpy(a->paths, p1, l1 + 1);
    if (p2)
        memcpy(a->paths + l1 + 1, p2, l2 + 1);
    else
        a->paths[l1 + 1] = '\0';
    sea_future f = sea__disk_call(path_call, a, sz, what, p1);
    free(a);
    return f;
}

sea_future sea_file_exists(const char *path) {
    return path_op(P_EXISTS, "exists", path, NULL, 0, NULL);
}

sea_future sea_path_stat(const char *path, struct stat *out, bool nofollow) {
    return path_op(nofollow ? P_LSTAT : P_STAT, "stat", path, NULL, 0, out);
}

sea_future sea_dir_make(const char *path, unsigned mode) {
    return path_op(P_MKDIR, "mkdir", path, NULL, mode ? mode : 0755, NULL);
}

sea_future sea_path_remove(const char *path) {
    return path_op(P_REMOVE, "remove", path, NULL, 0, NULL);
}

sea_future sea_path_rename(const char *from, const char *to) {
    return path_op(P_RENAME, "rename", from, to, 0, NULL);
}

sea_future sea_path_link(const char *existing, const char *new_path) {
    return path_op(P_LINK, "link", existing, new_path, 0, NULL);
}

sea_future sea_dir_sync(const char *path) {
    return path_op(P_DIRSYNC, "fsync directory", path, NULL, 0, NULL);
}

sea_future sea_fs_space(const char *path, struct statvfs *out) {
    return path_op(P_STATVFS, "statvfs", path, NULL, 0, out);
}

/* ---- listing ---- */

#define DIRBUF 32768

struct sea_dir {
    sea_box box; /* first: the box is the directory */
    int fd;
    bool busy;
    bool at_end;
    size_t pos, len; /* entries not yet handed out: buf[pos..len) */
    char path[PATH_MAX];
    _Alignas(8) char buf[DIRBUF];
};

struct dir_open_args {
    struct sea_dir *d;
};

static long dir_open_call(void *arg) {
    struct sea_dir *d = ((struct dir_open_args *)arg)->d;
    int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    d->fd = fd;
    return 0;
}

static void dir_box_release(sea_box *box) {
    sea_dir_close((sea_dir *)box);
}

static sea_future dir_opened(struct sea_dir **dp, sea_future *in) {
    if (sea_future_failed(in)) {
        free(*dp);
        return sea_future_move(in);
    }
    return sea_ready_box(&(*dp)->box);
}

sea_future sea_dir_open(const char *path) {
    if (!path || !*path)
        return sea_failed(-EINVAL, "open directory: an empty path");
    if (strlen(path) >= PATH_MAX)
        return sea_failed(-ENAMETOOLONG, "open directory: the path is too long");
    struct sea_dir *d = calloc(1, sizeof(*d));
    if (!d)
        return sea_failed_fmt(-ENOMEM, "open directory %s: out of memory", path);
    d->box.release = dir_box_release;
    d->fd = -1;
    snprintf(d->path, sizeof(d->path), "%s", path);
    struct dir_open_args a = {d};
    return sea_then_wrapped(sea__disk_call(dir_open_call, &a, sizeof(a), "open directory", path), dir_opened, d);
}

struct dir_read_args {
    struct sea_dir *d;
};

static long dir_read_call(void *arg) {
    struct sea_dir *d = ((struct dir_read_args *)arg)->d;
    long n;
    do
        n = syscall(SYS_getdents64, d->fd, d->buf, DIRBUF);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* The next entry in the buffer into *out: true, or false if the buffer is used up. */
static bool next_buffered(struct sea_dir *d, sea_dir_entry *out) {
    while (d->pos < d->len) {
        struct dirent64 *e = (struct dirent64 *)(void *)(d->buf + d->pos);
        d->pos += e->d_reclen;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(out->name, sizeof(out->name), "%s", e->d_name);
        out->type = e->d_type;
        return true;
    }
    return false;
}

struct dir_next_cap {
    struct sea_dir *d;
    sea_dir_entry *out;
};

static sea_future dir_filled(struct dir_next_cap *c, sea_future *in) {
    struct sea_dir *d = c->d;
    d->busy = false;
    if (sea_future_failed(in))
        return sea_future_move(in);
    d->pos = 0;
    d->len = (size_t)sea_future_value(in).i;
    if (d->len == 0) {
        d->at_end = true;
        return sea_ready_int(0);
    }
    if (next_buffered(d, c->out))
        return sea_ready_int(1);
    /* A buffer of nothing but "." and "..": read on. */
    return sea_dir_next(d, c->out);
}

sea_future sea_dir_next(sea_dir *d, sea_dir_entry *out) {
    if (d->busy)
        return sea_failed_fmt(-EBUSY, "list %s: a sea_dir_next is already pending", d->path);
    if (next_buffered(d, out))
        return sea_ready_int(1);
    if (d->at_end)
        return sea_ready_int(0);
    d->busy = true;
    struct dir_read_args a = {d};
    return sea_then_wrapped(sea__disk_call(dir_read_call, &a, sizeof(a), "list", d->path), dir_filled,
                            ((struct dir_next_cap){d, out}));
}

void sea_dir_close(sea_dir *d) {
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd); /* closing a directory does not wait for the disk */
    free(d);
}
