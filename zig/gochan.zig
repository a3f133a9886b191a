//! gochan for Zig code: the C API of <gochan.h> through @cImport.
//!
//!     const gochan = @import("gochan");
//!     const ch = gochan.c.chan_new(@sizeOf(i32), 4) orelse return error.OutOfMemory;
//!
//! Every function, constant and type of include/gochan/*.h is in `c`, named
//! as in C.  Importing this module also links libgochan.a, liburcu-cds and
//! pthread into the program.  The statement macros (CHAN_SELECT, CHAN_RANGE,
//! CTX_SCOPED) are C syntax and do not translate: build a `c.chan_case_t`
//! array and call `c.chan_select`, loop on `c.chan_recv`, `defer
//! c.ctx_cancel_release(ctx)`.
pub const c = @cImport({
    @cDefine("_GNU_SOURCE", "1");
    @cInclude("gochan.h");
});

/// The library's version, as gochan_version() reports it ("MAJOR.MINOR.PATCH").
pub fn version() [:0]const u8 {
    return std.mem.span(c.gochan_version());
}

const std = @import("std");
