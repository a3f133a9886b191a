//! The build of gochan-search (search/), called from build.zig:
//!     @import("search/build_search.zig").addSteps(b, target, optimize, static_lib);
//!
//! Steps:
//!   search          build zig-out/bin/gochan-search
//!   search-test     end-to-end tests against the real binary (search/tests/e2e.py)
//!   search-browser  headless Chromium via Selenium (search/tests/browser.py)
//!   search-demo     the zombie-scan demo on the default corpus (search/demo.py)
//!
//! Every search/*.c is part of the service.  search/page.html is embedded as
//! a generated header (page_html.h, a byte array) at configure time.  Until
//! the poll, group and diag modules have landed, the stand-ins of
//! search/shim/ fill in for each one whose public header is missing.
const std = @import("std");

const c_flags = [_][]const u8{
    "-std=c11", "-D_GNU_SOURCE", "-fno-strict-aliasing", "-pthread",
    "-Wall",    "-Wextra",       "-Werror",
};

/// Toolkit modules the service needs, each with a stand-in until it lands.
const shimmed = [_][]const u8{ "poll", "group", "diag" };

pub fn addSteps(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib: *std.Build.Step.Compile,
) void {
    const exe = addService(b, target, optimize, lib);
    const install = b.addInstallArtifact(exe, .{});

    const build_step = b.step("search", "Build zig-out/bin/gochan-search (the search service)");
    build_step.dependOn(&install.step);

    const test_step = b.step("search-test", "End-to-end tests of gochan-search (search/tests/e2e.py)");
    test_step.dependOn(&runScript(b, "search e2e", "600", "search/tests/e2e.py", exe).step);

    const browser_step = b.step("search-browser", "gochan-search in headless Chromium via Selenium (search/tests/browser.py)");
    browser_step.dependOn(&runScript(b, "search browser", "300", "search/tests/browser.py", exe).step);

    const demo_step = b.step("search-demo", "The search service's demo: a scan stops when its client hangs up");
    const demo = runScript(b, "search demo", "900", "search/demo.py", exe);
    demo_step.dependOn(&install.step);
    demo_step.dependOn(&demo.step);
}

fn addService(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib: *std.Build.Step.Compile,
) *std.Build.Step.Compile {
    const mod = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .sanitize_c = .full,
    });
    // Real headers first: a shim header is only reached when the real one is missing.
    mod.addIncludePath(b.path("include"));
    mod.addIncludePath(b.path("."));
    mod.addIncludePath(pageHeader(b));

    var srcs: std.ArrayList([]const u8) = .empty;
    srcs.appendSlice(b.allocator, listC(b, "search")) catch @panic("OOM");
    var need_shim = false;
    for (shimmed) |m| {
        if (exists(b, b.fmt("include/gochan/{s}.h", .{m}))) continue;
        srcs.append(b.allocator, b.fmt("search/shim/shim_{s}.c", .{m})) catch @panic("OOM");
        need_shim = true;
    }
    if (need_shim) mod.addIncludePath(b.path("search/shim"));
    mod.addCSourceFiles(.{ .root = b.path("."), .files = srcs.items, .flags = &c_flags });
    mod.linkLibrary(lib);
    mod.linkSystemLibrary("libmicrohttpd", .{});
    mod.linkSystemLibrary("libpcre2-8", .{});
    mod.linkSystemLibrary("liburcu-cds", .{});
    mod.linkSystemLibrary("pthread", .{});
    return b.addExecutable(.{ .name = "gochan-search", .root_module = mod });
}

/// page_html.h: `static const unsigned char page_html[] = {...};` from
/// search/page.html (read now, so an edit of the page rebuilds the service).
fn pageHeader(b: *std.Build) std.Build.LazyPath {
    const page = b.build_root.handle.readFileAlloc(b.allocator, "search/page.html", 1 << 20) catch
        @panic("cannot read search/page.html");
    var out: std.ArrayList(u8) = .empty;
    const w = out.writer(b.allocator);
    w.writeAll("/* Generated from search/page.html by search/build_search.zig. */\n" ++
        "static const unsigned char page_html[] = {\n") catch @panic("OOM");
    for (page, 0..) |c, i| {
        w.print("{d},", .{c}) catch @panic("OOM");
        if (i % 24 == 23) w.writeAll("\n") catch @panic("OOM");
    }
    w.writeAll("\n};\n") catch @panic("OOM");
    const wf = b.addWriteFiles();
    _ = wf.add("page_html.h", out.items);
    return wf.getDirectory();
}

/// `bash scripts/run-prog.sh NAME SECONDS python3 SCRIPT BIN`: a timeout and
/// a line naming the outcome, as for the project's other test programs.
fn runScript(b: *std.Build, name: []const u8, seconds: []const u8, script: []const u8, exe: *std.Build.Step.Compile) *std.Build.Step.Run {
    const run = b.addSystemCommand(&.{"bash"});
    run.addFileArg(b.path("scripts/run-prog.sh"));
    run.addArgs(&.{ name, seconds, "python3" });
    run.addFileArg(b.path(script));
    run.addArtifactArg(exe);
    run.setName(name);
    run.has_side_effects = true;
    run.stdio = .inherit;
    return run;
}

fn listC(b: *std.Build, dir_path: []const u8) []const []const u8 {
    var list: std.ArrayList([]const u8) = .empty;
    var dir = b.build_root.handle.openDir(dir_path, .{ .iterate = true }) catch return &.{};
    defer dir.close();
    var it = dir.iterate();
    while (it.next() catch @panic("cannot list search/")) |e| {
        if (e.kind != .file or e.name[0] == '.' or !std.mem.endsWith(u8, e.name, ".c")) continue;
        list.append(b.allocator, b.fmt("{s}/{s}", .{ dir_path, e.name })) catch @panic("OOM");
    }
    std.mem.sort([]const u8, list.items, {}, struct {
        fn lt(_: void, x: []const u8, y: []const u8) bool {
            return std.mem.lessThan(u8, x, y);
        }
    }.lt);
    return list.items;
}

fn exists(b: *std.Build, path: []const u8) bool {
    const st = b.build_root.handle.statFile(path) catch return false;
    return st.kind == .file;
}
