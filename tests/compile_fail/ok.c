/*
 * ok.c - must compile cleanly with -std=c17 -Wall -Wextra -Wpedantic
 * -Wshadow -Werror: the control for the cases beside it, which use the same
 * constructs wrongly.  Every shape of every macro that takes a function and
 * an optional capture appears here once, used rightly, with no parameter
 * left unused.
 */
#include <sea/sea.h>

struct two {
    int a, b;
};

static sea_future step(struct two *c, sea_value v) {
    return sea_ready_int(c->a + c->b + v.i);
}
static sea_future step_cap(struct two *c) {
    return sea_ready_int(c->a);
}
static sea_future step_val(sea_value v) {
    return sea_ready_int(v.i + 1);
}
static sea_future step_none(void) {
    return sea_ready();
}
static sea_future wrapped(struct two *c, sea_future *in) {
    if (c->a)
        return sea_future_move(in);
    return sea_ready();
}
static sea_future wrapped_none(sea_future *in) {
    return sea_future_move(in);
}
static sea_future fin(int *i) {
    return sea_ready_int(*i);
}
static sea_future handle(int *c, int err, const char *msg) {
    return sea_ready_int(*c + err + (msg != NULL));
}
static sea_future handle_none(int err, const char *msg) {
    return msg ? sea_failed(err, msg) : sea_ready();
}
static struct two make_two(void) {
    return (struct two){1, 2};
}

sea_future chain(void);
sea_future chain(void) {
    const struct two t = {1, 2};
    sea_future f = sea_then(sea_sleep(1), step, t); /* a const lvalue: the copy is not const */
    f = sea_then(f, step, (struct two){.a = 1, .b = 2});
    f = sea_then(f, step_cap, make_two()); /* an rvalue capture */
    f = sea_then(f, step_val);
    f = sea_then(f, step_none);
    f = sea_then(sea_then(f, step, t), step_cap, t); /* nested: no shadowing */
    f = sea_then_wrapped(f, wrapped, (struct two){3, 4});
    f = sea_then_wrapped(f, wrapped_none);
    f = sea_finally(f, step_none);
    f = sea_finally(f, fin, 5);
    f = sea_handle_error(f, handle, 5);
    f = sea_handle_error(f, handle_none);
    sea_future_ignore(sea_yield());
    sea_future_detach(sea_sleep(2));
    return f;
}

/* ---- loops ---- */
static sea_future body(int *i) {
    return ++*i < 10 ? sea_continue() : sea_stop();
}
static sea_future body_none(void) {
    return sea_stop();
}
static sea_future until_value(int *i, sea_value *out) {
    out->i = *i;
    return sea_stop();
}
static sea_future until_value_none(sea_value *out) {
    out->i = 1;
    return sea_stop();
}
static bool done(int *i) {
    return *i > 3;
}
static bool done_none(void) {
    return true;
}
static sea_future each(int *base, int64_t i) {
    return sea_ready_int(*base + i);
}
static sea_future each_none(int64_t i) {
    return sea_ready_int(i);
}
static sea_future each_noindex(int *base) {
    return sea_ready_int(*base);
}

sea_future loops(void);
sea_future loops(void) {
    sea_future f = sea_repeat(body, 0);
    f = sea_then(f, step_none);
    sea_future_detach(sea_repeat(body_none));
    sea_future_detach(sea_repeat_until_value(until_value, 7));
    sea_future_detach(sea_repeat_until_value(until_value_none));
    sea_future_detach(sea_do_until(done, body, 0));
    sea_future_detach(sea_do_until(done_none, body_none));
    sea_future_detach(sea_keep_doing(body, 0));
    sea_future_detach(sea_keep_doing(body_none));
    sea_future_detach(sea_do_for_each(0, 3, each, 10));
    sea_future_detach(sea_do_for_each(0, 3, each_none));
    sea_future_detach(sea_do_for_each(0, 3, each_noindex, 1));
    sea_future_detach(sea_parallel_for_each(0, 3, body_none));
    sea_future_detach(sea_parallel_for_each(0, 3, each, 10));
    sea_future_detach(sea_parallel_for_each(0, 3, each_none));
    sea_future_detach(sea_max_concurrent_for_each(0, 3, 2, each, 10));
    sea_future_detach(sea_max_concurrent_for_each(0, 3, 2, each_none));
    sea_future_detach(sea_map_reduce_range(0, 3, each, sea_reduce_sum_int, (sea_value){0}, 10));
    sea_future_detach(sea_map_reduce_range(0, 3, each_none, sea_reduce_sum_int, (sea_value){0}));
    return f;
}

/* ---- shards, services, primitives ---- */
static sea_future on_shard(int *i) {
    return sea_ready_int(*i);
}
static sea_future on_instance(void *instance, int *i) {
    return sea_ready_int(*i + (instance != NULL));
}
static sea_future on_instance_none(void *instance) {
    return sea_ready_int(instance != NULL);
}
static bool ready_pred(int *i) {
    return *i > 0;
}
static sea_consumption consume(int *seen, const char *data, size_t len) {
    *seen += len > 0 && data[0] == 'x';
    return (sea_consumption){SEA_CONSUME_STOP, 0};
}
static sea_consumption consume_none(const char *data, size_t len) {
    return (sea_consumption){data && len ? SEA_CONSUME_MORE : SEA_CONSUME_STOP, 0};
}
static void cleanup(struct two *t) {
    t->a = 0;
}

sea_future others(sea_sharded *svc, sea_input_stream *in);
sea_future others(sea_sharded *svc, sea_input_stream *in) {
    static sea_semaphore sem = SEA_SEMAPHORE_INIT(10);
    static sea_semaphore bounded = SEA_SEMAPHORE_INIT_BOUNDED(10);
    static sea_gate gate = SEA_GATE_INIT;
    static sea_rwlock lock = SEA_RWLOCK_INIT;
    static sea_condvar cv = SEA_CONDVAR_INIT;
    static sea_abort_source as = SEA_ABORT_SOURCE_INIT;
    static sea_shared_promise sp = SEA_SHARED_PROMISE_INIT;
    static sea_promise p = SEA_PROMISE_INIT;
    (void)as, (void)sp, (void)p, (void)bounded;
    sea_future_detach(sea_submit_to(1, on_shard, 3));
    sea_future_detach(sea_submit_to(1, step_none));
    sea_future_detach(sea_invoke_on_all(on_shard, 3));
    sea_future_detach(sea_invoke_on_all(step_none));
    sea_future_detach(sea_map_reduce(on_shard, sea_reduce_sum_int, (sea_value){0}, 3));
    sea_future_detach(sea_map_reduce(step_none, sea_reduce_sum_int, (sea_value){0}));
    sea_future_detach(sea_sharded_invoke_on(svc, 0, on_instance, 1));
    sea_future_detach(sea_sharded_invoke_on(svc, 0, on_instance_none));
    sea_future_detach(sea_sharded_invoke_on_all(svc, on_instance, 1));
    sea_future_detach(sea_sharded_invoke_on_all(svc, on_instance_none));
    sea_future_detach(sea_sharded_map_reduce(svc, on_instance, sea_reduce_sum_int, (sea_value){0}, 1));
    sea_future_detach(sea_sharded_map_reduce(svc, on_instance_none, sea_reduce_sum_int, (sea_value){0}));
    sea_future_detach(sea_with_semaphore(&sem, 1, on_shard, 2));
    sea_future_detach(sea_with_semaphore(&sem, 1, step_none));
    sea_future_detach(sea_with_gate(&gate, on_shard, 2));
    sea_future_detach(sea_with_gate(&gate, step_none));
    sea_future_detach(sea_with_read_lock(&lock, on_shard, 2));
    sea_future_detach(sea_with_write_lock(&lock, step_none));
    sea_future_detach(sea_condvar_wait_until(&cv, ready_pred, 1));
    sea_future_detach(sea_condvar_wait_until(&cv, done_none));
    sea_future_detach(sea_do_with(step_cap, (struct two){1, 2}));
    sea_future_detach(sea_do_with_cleanup(step_cap, cleanup, make_two()));
    sea_future_detach(sea_input_consume(in, consume, 0));
    return sea_input_consume(in, consume_none);
}

/* ---- fibers ---- */
static sea_future worker(int *id) {
    sea_value v = SEA_AWAIT(sea_sleep(SEA_MSEC(*id)));
    SEA_AWAIT(sea_yield());
    long n = SEA_TRY(sea_fiber_yield());
    sea_future_detach(sea_await(sea_sleep(1))); /* waited for, result dropped on purpose */
    return sea_ready_int(v.i + n);
}
static sea_future echo(sea_socket *s) {
    char buf[64];
    size_t n;
    while ((n = SEA_AWAIT(sea_socket_read(s, buf, sizeof(buf))).size) > 0)
        SEA_AWAIT(sea_socket_write(s, buf, n));
    return sea_ready();
}
static sea_future greet(const char **text, sea_socket *s) {
    return sea_socket_write(s, *text, 5);
}
sea_future servers(void);
sea_future servers(void) {
    static const char *hello = "hello";
    sea_future_detach(sea_serve("127.0.0.1:0", NULL, echo));
    sea_future_detach(sea_server_start("unix:@x", (&(sea_server_options){.fibers = true, .max_connections = 9}), echo));
    return sea_serve("[::1]:0", &(sea_server_options){.fibers = true}, greet, hello);
}
static sea_future worker_none(void) {
    return sea_ready();
}

sea_future fibers(void);
sea_future fibers(void) {
    static sea_gate g = SEA_GATE_INIT;
    sea_future all[4];
    for (int i = 0; i < 2; i++)
        all[i] = sea_fiber_start(worker, i); /* each fiber gets this turn's i */
    all[2] = sea_fiber_start_attr((&(sea_fiber_attr){.name = "w", .stack_size = 65536}), worker_none);
    all[3] = sea_fiber_start_in(&g, worker, 7);
    return sea_when_all(all, 4);
}

/* ---- the application ---- */
static sea_future stop(int *code) {
    return sea_ready_int(*code);
}
static sea_future app_main(void) {
    sea_app_at_exit(stop, 0);
    sea_app_at_exit(step_none);
    return sea_app_stopped();
}
static sea_future app_main_cap(char **greeting) { /* a string literal is a char * in C */
    return sea_ready_int(**greeting);
}

int run(int argc, char **argv);
int run(int argc, char **argv) {
    if (argc > 5)
        return sea_app_run_fiber(argc, argv, app_main_cap, "hello");
    return sea_app_run(argc, argv, app_main);
}
