//! gochan for Zig code: the C API of <gochan.h> through @cImport.
//!
//!     const gochan = @import("gochan");
//!     const ch = gochan.c.chan_new(@sizeOf(i32), 4) orelse return error.OutOfMemory;
//!
//! Every function, constant and type of include/gochan/*.h is in `c`, named
//! as in C.  Importing this module also links libgochan.a, liburcu-cds and
//! pthread into the program.  The statement macros (CHAN_SELECT, CHAN_RANGE,
//! CTX_SCOPED) are C syntax and do not translate: build a `c.chan_case_t`
//! array (with `recvCase`/`sendCase` below, which record the element size
//! as CHAN_RECV/CHAN_SEND do, or by hand with `.size_check = 0`) and call
//! `c.chan_select`, loop on `c.chan_recv`, `defer c.ctx_cancel_release(ctx)`.
pub const c = @cImport({
    @cDefine("_GNU_SOURCE", "1");
    @cInclude("gochan.h");
});

/// The library's version, as gochan_version() reports it ("MAJOR.MINOR.PATCH").
pub fn version() [:0]const u8 {
    return std.mem.span(c.gochan_version());
}

const std = @import("std");

/// sizeof the pointee of @T as the C case builders record it (0: unknown,
/// not checked: an optional or C pointer to anyopaque, u8/i8 bytes).
fn pointeeSize(comptime T: type) usize {
    const P = switch (@typeInfo(T)) {
        .optional => |o| o.child,
        else => T,
    };
    const info = switch (@typeInfo(P)) {
        .pointer => |p| p,
        .null => return 0,
        else => @compileError("gochan: a case's value must be a pointer, not " ++ @typeName(T)),
    };
    if (info.child == anyopaque or info.child == u8 or info.child == i8) return 0;
    return switch (info.size) {
        .one => @sizeOf(info.child),
        else => 0,
    };
}

fn sizeCheck(comptime T: type) u32 {
    const n = pointeeSize(T);
    return if (n != 0 and n <= c.CHAN__SIZE_MAX) c.CHAN__SIZE_TAG | @as(u32, @intCast(n)) else 0;
}

/// A receive case, as C's CHAN_RECV(ch, dst, ok) builds it: @dst (a
/// pointer, or null to discard) records @sizeOf its pointee, and
/// chan_select returns -EINVAL if it is not the channel's element size.
pub fn recvCase(ch: ?*c.chan_t, dst: anytype, ok: ?*bool) c.chan_case_t {
    return .{ .chan = ch, .elem = if (@TypeOf(dst) == @TypeOf(null)) null else @ptrCast(@constCast(dst)), .ok = ok, .op = c.CHAN_OP_RECV, .size_check = sizeCheck(@TypeOf(dst)) };
}

/// A send case, as C's CHAN_SEND(ch, val, ok): @val may point to const (the
/// library only reads it); its pointee's size is checked as for recvCase.
pub fn sendCase(ch: ?*c.chan_t, val: anytype, ok: ?*bool) c.chan_case_t {
    return .{ .chan = ch, .elem = if (@TypeOf(val) == @TypeOf(null)) null else @ptrCast(@constCast(val)), .ok = ok, .op = c.CHAN_OP_SEND, .size_check = sizeCheck(@TypeOf(val)) };
}
