//! The build of gochan-search (search/), called from build.zig:
//!     @import("search/build_search.zig").addSteps(b, target, optimize, static_lib, &public_includes);
//!
//! Steps:
//!   search          build zig-out/bin/gochan-search
//!   search-test     end-to-end tests against the real binary (search/tests/e2e.py)
//!   search-browser  headless Chromium via Selenium (search/tests/browser.py)
//!   demo            the main job: the zombie-scan demo on the default corpus
//!                   (search/demo.py); search-demo is the same step
//!
//! Every search/*.c is part of the service.  search/page.html is embedded as
//! a generated header (page_html.h, a byte array) at configure time.
const std = @import("std");

const c_flags = [_][]const u8{
    "-std=c11", "-D_GNU_SOURCE", "-fno-strict-aliasing", "-pthread",
    "-Wall",    "-Wextra",       "-Werror",
};

pub fn addSteps(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib: *std.Build.Step.Compile,
    includes: []const std.Build.LazyPath,
) void {
    const exe = addService(b, target, optimize, lib, includes);
    const install = b.addInstallArtifact(exe, .{});

    const build_step = b.step("search", "Build zig-out/bin/gochan-search (the search service)");
    build_step.dependOn(&install.step);

    const test_step = b.step("search-test", "End-to-end tests of gochan-search (search/tests/e2e.py), also under ASan+UBSan");
    test_step.dependOn(&runScript(b, "search e2e", "600", "search/tests/e2e.py", exe.getEmittedBin()).step);
    const asan = runScript(b, "search e2e asan", "900", "search/tests/e2e.py", addAsanService(b, lib, includes));
    asan.setEnvironmentVariable("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1");
    asan.setEnvironmentVariable("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    test_step.dependOn(&asan.step);

    const browser_step = b.step("search-browser", "gochan-search in headless Chromium via Selenium (search/tests/browser.py)");
    browser_step.dependOn(&runScript(b, "search browser", "300", "search/tests/browser.py", exe.getEmittedBin()).step);

    const demo = runScript(b, "search demo", "900", "search/demo.py", exe.getEmittedBin());
    for ([_][]const u8{ "demo", "search-demo" }) |name| {
        const demo_step = b.step(name, "The main job: gochan-search on a generated corpus; a client hangs up after 2 s and the scan stops at once");
        demo_step.dependOn(&install.step);
        demo_step.dependOn(&demo.step);
    }
}

fn addService(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib: *std.Build.Step.Compile,
    includes: []const std.Build.LazyPath,
) *std.Build.Step.Compile {
    const mod = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        // UBSan with messages where the library's tests have it; none in
        // the fast modes (a benchmark build: -Doptimize=ReleaseFast).
        .sanitize_c = switch (optimize) {
            .Debug, .ReleaseSafe => .full,
            .ReleaseFast, .ReleaseSmall => .off,
        },
    });
    for (includes) |dir| mod.addIncludePath(dir);
    mod.addIncludePath(pageHeader(b));
    mod.addCSourceFiles(.{ .root = b.path("."), .files = listC(b, "search"), .flags = &c_flags });
    mod.linkLibrary(lib);
    mod.linkSystemLibrary("libmicrohttpd", .{});
    mod.linkSystemLibrary("libpcre2-8", .{});
    mod.linkSystemLibrary("liburcu-cds", .{});
    mod.linkSystemLibrary("pthread", .{});
    return b.addExecutable(.{ .name = "gochan-search", .root_module = mod });
}

/// The service's own code under clang-14 -fsanitize=address,undefined (the
/// project's ASan flags), linked with the library as built for install (not
/// instrumented: `zig build asan` covers the library itself).
fn addAsanService(b: *std.Build, lib: *std.Build.Step.Compile, includes: []const std.Build.LazyPath) std.Build.LazyPath {
    const run = b.addSystemCommand(&.{"clang-14"});
    run.setName("clang-14 asan gochan-search");
    run.addArgs(&c_flags);
    run.addArgs(&.{ "-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g", "-O1" });
    for (includes) |dir| run.addPrefixedDirectoryArg("-I", dir);
    run.addPrefixedDirectoryArg("-I", pageHeader(b));
    for (listC(b, "search")) |src| run.addFileArg(b.path(src));
    for (listFiles(b, "search", ".h")) |hdr| run.addFileInput(b.path(hdr)); // rebuild on header edits
    run.addFileArg(lib.getEmittedBin());
    run.addArgs(&.{ "-lmicrohttpd", "-lpcre2-8", "-lurcu-cds", "-o" });
    return run.addOutputFileArg("gochan-search-asan");
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
fn runScript(b: *std.Build, name: []const u8, seconds: []const u8, script: []const u8, exe: std.Build.LazyPath) *std.Build.Step.Run {
    const run = b.addSystemCommand(&.{"bash"});
    run.addFileArg(b.path("scripts/run-prog.sh"));
    run.addArgs(&.{ name, seconds, "python3" });
    run.addFileArg(b.path(script));
    run.addFileArg(exe);
    run.setName(name);
    run.has_side_effects = true;
    run.stdio = .inherit;
    return run;
}

fn listC(b: *std.Build, dir_path: []const u8) []const []const u8 {
    return listFiles(b, dir_path, ".c");
}

fn listFiles(b: *std.Build, dir_path: []const u8, suffix: []const u8) []const []const u8 {
    var list: std.ArrayList([]const u8) = .empty;
    var dir = b.build_root.handle.openDir(dir_path, .{ .iterate = true }) catch return &.{};
    defer dir.close();
    var it = dir.iterate();
    while (it.next() catch @panic("cannot list search/")) |e| {
        if (e.kind != .file or e.name[0] == '.' or !std.mem.endsWith(u8, e.name, suffix)) continue;
        list.append(b.allocator, b.fmt("{s}/{s}", .{ dir_path, e.name })) catch @panic("OOM");
    }
    std.mem.sort([]const u8, list.items, {}, struct {
        fn lt(_: void, x: []const u8, y: []const u8) bool {
            return std.mem.lessThan(u8, x, y);
        }
    }.lt);
    return list.items;
}
