/*
 * sea/file.h - files on the reactor: DMA reads and writes at an offset,
 * file metadata, directories, and the file-system calls a storage
 * application needs, all as futures that never block the shard.
 *
 *     sea_file *f = SEA_AWAIT(sea_file_open("data/log", O_RDWR | O_CREAT, NULL)).ptr;
 *     void *buf = sea_dma_alloc(sea_file_memory_alignment(f), 4096);
 *     size_t n = SEA_AWAIT(sea_file_read(f, 0, buf, 4096)).size;   // fewer at the end of the file
 *     SEA_AWAIT(sea_file_write(f, 4096, buf, 4096));
 *     SEA_AWAIT(sea_file_flush(f));                                 // fdatasync
 *     SEA_AWAIT(sea_file_close(f));
 *     sea_dma_free(buf);
 *
 * DMA.  A file is opened with O_DIRECT unless the options ask for the page
 * cache (buffered) or the file system refuses O_DIRECT (tmpfs, some FUSE
 * and network file systems): then it is opened without, sea logs it once
 * per file system, and sea_file_is_direct says so.  On a direct file the
 * kernel moves the bytes between the device and the caller's buffer, so a
 * read or write must be aligned: the buffer's address to
 * sea_file_memory_alignment(f), the offset and the length to
 * sea_file_read_alignment(f) / sea_file_write_alignment(f).  A request that
 * is not fails at once with -EINVAL and a message naming what is
 * misaligned; nothing reaches the kernel.  sea_dma_alloc gives aligned
 * memory.  A buffered file takes any buffer, offset and length.
 *
 * A read that reaches the end of the file resolves with the bytes there
 * were (a short read, possibly 0); it is not an error and is not retried.
 * Writes are retried until every byte is written or one fails.
 *
 * Where each call runs (docs/disk.md has the table):
 *   - reads, writes and their vectored forms: on io_uring, in the shard's
 *     ring; on epoll, through Linux AIO for a direct file and the syscall
 *     threads for a buffered one (AIO on a buffered file would block);
 *   - flush (fdatasync): the ring on io_uring, AIO on epoll;
 *   - open, close, stat, size, truncate, allocate, and every path and
 *     directory call: a small pool of syscall threads shared by the shards
 *     (--disk-syscall-threads), as they have no asynchronous form the
 *     epoll backend could use.  The shard goes on meanwhile.
 *
 * Reads and writes pass through the shard's I/O scheduler (sea/io_sched.h):
 * each file has an I/O class (the options' io_class, or the default one).
 *
 * A file belongs to the shard that opened it; use it there only.  One
 * shard's requests on a file may be many and concurrent.  Failures are
 * negative errno values with a message naming the call and the path.
 */
#ifndef SEA_FILE_H
#define SEA_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_file sea_file;
typedef struct sea_io_class sea_io_class;

/* ---- aligned memory for DMA ---- */

/*
 * len bytes aligned to align (a power of two; 0: 4096); NULL if out of
 * memory or align is not a power of two.  Up to 256 KiB they come from the
 * shard's memory; larger buffers are mappings of their own, rounded up to
 * whole 2 MiB huge pages where the kernel allows them (THP in madvise or
 * always mode), outside the shards' memory (-m), since a device moves a request's bytes per
 * physically contiguous segment and a 1 MiB buffer in scattered pages makes
 * the kernel split the request.  Any thread.  Free with sea_dma_free.
 */
void *sea_dma_alloc(size_t align, size_t len);
/* Frees memory from sea_dma_alloc (any thread); NULL is ignored. */
void sea_dma_free(void *p);

/* ---- opening ---- */

typedef struct sea_file_options {
    unsigned mode;          /* with O_CREAT: the permission bits (0: 0644) */
    bool buffered;          /* use the page cache (no O_DIRECT); any alignment is then fine */
    sea_io_class *io_class; /* the scheduler class of its reads and writes (NULL: the default class) */
    const char *beneath;    /* path is relative to this directory and may not leave it: "..", absolute
                               paths and symbolic links that resolve outside fail with -EXDEV (openat2's
                               RESOLVE_BENEATH); NULL: path as open(2) takes it */
} sea_file_options;

/*
 * Opens path with flags (O_RDONLY, O_WRONLY or O_RDWR, and O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND as open(2); O_DIRECT and O_CLOEXEC are added
 * by sea).  opts may be NULL.  Resolves with the file as a boxed value
 * (v.ptr: sea_file *; dropped, it is closed) or fails with -errno:
 * -ENOENT, -EACCES, -EISDIR, ...
 */
sea_future sea_file_open(const char *path, int flags, const sea_file_options *opts) SEA_MUST_USE;

/*
 * Closes f once its requests in flight have ended, and frees it; resolves
 * with 0, or fails with close(2)'s error (the file is freed anyway).
 * Requests made on f after this call fail with SEA_ESHUTDOWN.
 */
sea_future sea_file_close(sea_file *f) SEA_MUST_USE;

/* True if f bypasses the page cache (O_DIRECT). */
bool sea_file_is_direct(const sea_file *f);
/* The alignment of a DMA buffer's address, and of a read's and a write's offset and length (1 if buffered). */
size_t sea_file_memory_alignment(const sea_file *f);
size_t sea_file_read_alignment(const sea_file *f);
size_t sea_file_write_alignment(const sea_file *f);
/* The largest read or write the device takes in one request (larger ones are split by the kernel). */
size_t sea_file_max_request(const sea_file *f);
/* The descriptor, for calls sea does not wrap (do not close it). */
int sea_file_fd(const sea_file *f);
/* The class f's reads and writes are scheduled in (NULL: the default). */
void sea_file_set_io_class(sea_file *f, sea_io_class *c);

/* ---- reading and writing ---- */

/* Reads up to len bytes at pos into buf; resolves with v.size = the bytes read (fewer only at the end). */
sea_future sea_file_read(sea_file *f, uint64_t pos, void *buf, size_t len) SEA_MUST_USE;
/* Writes len bytes of buf at pos; resolves with v.size = len once all are written. */
sea_future sea_file_write(sea_file *f, uint64_t pos, const void *buf, size_t len) SEA_MUST_USE;
/* The vectored forms: every iov_base and iov_len must be aligned as above on a direct file.  At most IOV_MAX. */
sea_future sea_file_readv(sea_file *f, uint64_t pos, const struct iovec *iov, int iovcnt) SEA_MUST_USE;
sea_future sea_file_writev(sea_file *f, uint64_t pos, const struct iovec *iov, int iovcnt) SEA_MUST_USE;

/* ---- the file's metadata ---- */

/* Its size in bytes: v.u. */
sea_future sea_file_size(sea_file *f) SEA_MUST_USE;
/* fstat(2) into *out, which must stay valid until the future resolves. */
sea_future sea_file_stat(sea_file *f, struct stat *out) SEA_MUST_USE;
/* Sets the size to len (ftruncate). */
sea_future sea_file_truncate(sea_file *f, uint64_t len) SEA_MUST_USE;
/* Reserves blocks for [pos, pos+len) (fallocate, mode 0: the size grows to cover them); -EOPNOTSUPP where the file system cannot. */
sea_future sea_file_allocate(sea_file *f, uint64_t pos, uint64_t len) SEA_MUST_USE;
/* Makes written data durable (fdatasync). */
sea_future sea_file_flush(sea_file *f) SEA_MUST_USE;

/* ---- paths and directories ---- */

/* v.i = 1 if path exists (stat succeeds), 0 if not (ENOENT or ENOTDIR); other failures fail. */
sea_future sea_file_exists(const char *path) SEA_MUST_USE;
/* stat(2) of path into *out (valid until the future resolves); lstat if nofollow. */
sea_future sea_path_stat(const char *path, struct stat *out, bool nofollow) SEA_MUST_USE;
/* mkdir(2) with mode (0: 0755). */
sea_future sea_dir_make(const char *path, unsigned mode) SEA_MUST_USE;
/* Removes a file or an empty directory. */
sea_future sea_path_remove(const char *path) SEA_MUST_USE;
/*
 * rename(2): atomically replaces to.  To make a new file's content and
 * name durable, the pattern is: write it under a temporary name, flush it,
 * close it, rename it over the final name, then sea_dir_sync the
 * directory; after a crash either the old or the new file is there.
 */
sea_future sea_path_rename(const char *from, const char *to) SEA_MUST_USE;
/* link(2): a second name for a file. */
sea_future sea_path_link(const char *existing, const char *new_path) SEA_MUST_USE;
/* Makes a directory's entries durable (opens it and fsyncs it). */
sea_future sea_dir_sync(const char *path) SEA_MUST_USE;
/* statvfs(2) of the file system holding path, into *out (valid until the future resolves). */
sea_future sea_fs_space(const char *path, struct statvfs *out) SEA_MUST_USE;

/* A directory being listed. */
typedef struct sea_dir sea_dir;

/* One entry: its name and its type (DT_REG, DT_DIR, ... DT_UNKNOWN where the file system does not say). */
typedef struct sea_dir_entry {
    char name[256];
    unsigned char type;
} sea_dir_entry;

/* Opens path for listing: v.ptr = sea_dir * (boxed: dropped, it is closed). */
sea_future sea_dir_open(const char *path) SEA_MUST_USE;
/*
 * The next entry into *out ("." and ".." skipped): v.i = 1, or 0 at the
 * end.  Entries are fetched from the kernel many at a time.
 */
sea_future sea_dir_next(sea_dir *d, sea_dir_entry *out) SEA_MUST_USE;
/* Frees d (not while a sea_dir_next is pending). */
void sea_dir_close(sea_dir *d);

/* ---- the page cache (buffered files) ---- */

/*
 * Whether the bytes [pos, pos + len) of a buffered file are all in the page
 * cache right now (cachestat(2), no I/O, on the shard): 1 or 0; -EINVAL for
 * a direct file; -ENOSYS on kernels before 6.5.  Pages can be evicted the
 * next moment: it is a hint for what to read or send without waiting.
 */
int sea_file_cached(sea_file *f, uint64_t pos, uint64_t len);
/*
 * Reads [pos, pos + len) of a buffered file into the page cache, on a
 * syscall thread (readahead(2)), and resolves once it is there, so that a
 * sendfile of it (sea_socket_sendfile) does not wait for the disk on the
 * shard.  -EINVAL for a direct file.
 */
sea_future sea_file_prefetch(sea_file *f, uint64_t pos, uint64_t len) SEA_MUST_USE;

/* ---- file streams ---- */

struct sea_input_stream;
struct sea_output_stream;

typedef struct sea_file_stream_options {
    size_t buffer_size; /* bytes per read or write (0: 128 KiB); rounded up to the file's alignment */
    unsigned ahead;     /* input: reads in flight ahead of the reader; output: writes in flight behind the writer (0: 4) */
} sea_file_stream_options;

/*
 * An input stream reading f from pos to the end of the file, with reads
 * of buffer_size kept ahead of the reader (sea/stream.h).  f must outlive
 * the stream.  NULL if out of memory.
 */
struct sea_input_stream *sea_file_input_stream(sea_file *f, uint64_t pos, const sea_file_stream_options *opts);
/*
 * An output stream writing f from pos (aligned to the file's write
 * alignment) on, with up to `ahead` writes of buffer_size in flight while
 * the writer goes on.  Closing it writes the last partial block (padded to
 * the alignment on a direct file), waits for every write, and sets the
 * file's size to exactly what was written.  It does not flush: call
 * sea_file_flush after.  The first failed write fails the next write and
 * the close.  NULL if pos is not aligned, or out of memory.
 */
struct sea_output_stream *sea_file_output_stream(sea_file *f, uint64_t pos, const sea_file_stream_options *opts);

#ifdef __cplusplus
}
#endif
#endif
