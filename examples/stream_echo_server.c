/*
 * stream_echo_server.c - echo_server.c over streams (sea/stream.h): each
 * buffer the input stream gives is handed to the output stream as it is,
 * so the bytes are not copied on their way back.
 *
 *     stream_echo_server [ADDRESS]            (default 0.0.0.0:1234)
 *
 * On the kernel's stack the input stream reads into buffers of its own; on
 * sea's (--network-stack=native) it hands on TCP's, and a large segment's
 * bytes stay in the memory the device put the frame in, from the wire to
 * the reply (docs/native-stack.md, "Zero copy").
 */
#include <sea/sea.h>

#include <errno.h>

/* Echoes until the end of the input; a failure (a reset) is the result. */
static sea_future pump(sea_input_stream *in, sea_output_stream *out) {
    for (;;) {
        sea_buf b;
        if (SEA_AWAIT(sea_input_read(in, &b)).size == 0)
            return sea_output_close(out); /* flushes, then shuts the write side down */
        SEA_AWAIT(sea_output_write_buf(out, b)); /* the reference goes with it: released once sent */
        SEA_AWAIT(sea_output_flush(out));
    }
}

static sea_future echo(sea_socket *s) {
    sea_input_stream *in = sea_input_stream_new(s, 64 * 1024);
    sea_output_stream *out = sea_output_stream_new(s, 0);
    sea_future r = in && out ? sea_await(pump(in, out)) : sea_failed(-ENOMEM, "no memory for the streams");
    sea_input_stream_free(in); /* whatever happened: no operation is pending on them now */
    sea_output_stream_free(out);
    return r;
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", &(sea_server_options){.fibers = true}, echo);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
