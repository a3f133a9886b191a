//! examples/zig-consumer/src/main.zig - Zig code using gochan through the
//! package's module: a producer thread sends 1..N on a buffered channel and
//! closes it; main selects between it and a context whose deadline is far
//! away, sums what it receives, and checks a select's default and timeout.
const std = @import("std");
const gochan = @import("gochan");
const c = gochan.c;

const N = 100;

fn producer(ch: *c.chan_t) void {
    var i: c_int = 1;
    while (i <= N) : (i += 1) _ = c.chan_send(ch, &i);
    _ = c.chan_close(ch);
}

pub fn main() !void {
    var passed: u32 = 0;
    var failed: u32 = 0;

    const ch = c.chan_new(@sizeOf(c_int), 8) orelse return error.OutOfMemory;
    defer _ = c.chan_unref(ch);
    const ctx = c.ctx_with_timeout(c.ctx_background(), 60 * c.GOTIME_SECOND) orelse return error.OutOfMemory;
    defer c.ctx_cancel_release(ctx); // Go's defer cancel()

    const t = try std.Thread.spawn(.{}, producer, .{ch});
    var sum: c_int = 0;
    while (true) {
        var v: c_int = 0;
        var ok: bool = false;
        // select { case v, ok := <-ch: ... case <-ctx.Done(): ... }
        var cases = [_]c.chan_case_t{
            gochan.recvCase(ch, &v, &ok),
            gochan.recvCase(c.ctx_done(ctx), null, null),
        };
        const r = c.chan_select(&cases, cases.len, c.CHAN_FOREVER);
        if (r != 0 or !ok) break;
        sum += v;
    }
    t.join();
    if (sum == N * (N + 1) / 2) passed += 1 else failed += 1;

    // select with default on an empty channel, then with a deadline.
    const empty = c.chan_new(0, 0) orelse return error.OutOfMemory;
    defer _ = c.chan_unref(empty);
    // A case built field by field: size_check 0 is "not checked".
    var one = [_]c.chan_case_t{.{ .chan = empty, .elem = null, .ok = null, .op = c.CHAN_OP_RECV, .size_check = 0 }};
    if (c.chan_select(&one, 1, c.CHAN_NOWAIT) == c.CHAN_DEFAULT) passed += 1 else failed += 1;
    if (c.chan_select(&one, 1, c.chan_deadline_in(1 * c.GOTIME_MILLISECOND)) == c.CHAN_TIMEOUT) passed += 1 else failed += 1;
    if (c.ctx_err(ctx) == 0) passed += 1 else failed += 1;

    // Element sizes are checked through the helpers as through C's macros,
    // and the context's Done channel refuses a send (EPERM).
    const ints = c.chan_new(@sizeOf(i64), 1) orelse return error.OutOfMemory;
    defer _ = c.chan_unref(ints);
    var small: i32 = 0;
    var wrong = [_]c.chan_case_t{gochan.recvCase(ints, &small, null)};
    if (c.chan_select(&wrong, 1, c.CHAN_NOWAIT) == -@as(c_int, @intFromEnum(std.posix.E.INVAL))) passed += 1 else failed += 1;
    const big: i64 = 7;
    var right = [_]c.chan_case_t{gochan.sendCase(ints, &big, null)};
    if (c.chan_select(&right, 1, c.CHAN_NOWAIT) == 0) passed += 1 else failed += 1;
    if (c.chan_close(c.ctx_done(ctx)) == @intFromEnum(std.posix.E.PERM)) passed += 1 else failed += 1;

    std.debug.print("consumer-zig (gochan {s}): {d} passed, {d} failed\n", .{ gochan.version(), passed, failed });
    if (failed != 0) std.process.exit(1);
}
