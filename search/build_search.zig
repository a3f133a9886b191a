//! The build of gochan-search (search/), called from build.zig:
//!     const search = @import("search/build_search.zig").addSteps(b, .{ ... });
//!
//! Steps:
//!   search          build zig-out/bin/gochan-search
//!   search-test     end-to-end tests against the real binary (search/tests/e2e.py),
//!                   also built with ASan+UBSan (clang-14)
//!   search-tsan     the same against a TSan build (clang-14)
//!   search-go-test  the Go twin's tests
//!   search-browser  headless Chromium via Selenium (search/tests/browser.py)
//!   search-bench    bench/search/run.sh on a ReleaseFast build of the service
//!   demo            the main job: the zombie-scan demo on the default corpus
//!                   (search/demo.py); search-demo is the same step
//!
//! Everything it needs from the project (the library, its sources, include
//! dirs and flags) comes in Options; what the project's own steps take in
//! (test-all: search-test, search-tsan, search-browser and the demo;
//! gcc-check: every search/*.c) goes back in Search, and build.zig attaches it.
//!
//! Every search/*.c is part of the service.  search/page.html is embedded as
//! a generated header (page_html.h, a byte array) at configure time.
const std = @import("std");

pub const Options = struct {
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    /// libgochan.a as installed: the service links it.
    lib: *std.Build.Step.Compile,
    /// The library's C sources (relative to the build root): the TSan build
    /// compiles them together with the service.
    lib_srcs: []const []const u8,
    /// The library's include dirs: the public headers and the repository root.
    include_dirs: []const std.Build.LazyPath,
    /// The project's C flags (build.zig's c_flags).
    c_flags: []const []const u8,
    /// The project's ASan+UBSan flags (build.zig's asan_flags).
    asan_flags: []const []const u8,
};

/// What the project's own steps take in; build.zig attaches it.
pub const Search = struct {
    /// The steps test-all runs: search-test, search-tsan, search-browser,
    /// and the demo's run.
    test_all: [4]*std.Build.Step,
    /// Every search/*.c, and the directory of the generated page_html.h
    /// they include: gcc-check compiles them.
    srcs: []const []const u8,
    include: std.Build.LazyPath,
};

pub fn addSteps(b: *std.Build, o: Options) Search {
    const page = pageHeader(b);
    const exe = addService(b, o, o.optimize, page);
    const install = b.addInstallArtifact(exe, .{});

    const build_step = b.step("search", "Build zig-out/bin/gochan-search (the search service)");
    build_step.dependOn(&install.step);

    const test_step = b.step("search-test", "End-to-end tests of gochan-search (search/tests/*.py), as built and under ASan+UBSan");
    const asan_bin = addAsanService(b, o, page);
    const tsan_bin = addTsanService(b, o, page);
    const tsan_step = b.step("search-tsan", "gochan-search's end-to-end tests against a clang-14 -fsanitize=thread build");
    // e2e.py: results, bad input, hang-ups; hostile.py: clients that stall
    // or never finish their request; integrity.py: nothing lost silently;
    // features.py: rg/fd's case, fixed-string and depth switches; walk.py:
    // ignore files, hidden and exclude= against rg and fd; context.py:
    // context lines against grep -B/-A.
    for ([_][2][]const u8{ .{ "e2e", "search/tests/e2e.py" }, .{ "hostile", "search/tests/hostile.py" }, .{ "integrity", "search/tests/integrity.py" }, .{ "features", "search/tests/features.py" }, .{ "walk", "search/tests/walk.py" }, .{ "context", "search/tests/context.py" }, .{ "prefilter", "search/tests/prefilter.py" } }) |t| {
        // A race report ends the server with status 66, and the scripts
        // also fail on any sanitizer report they find in a server's stderr.
        const tsan = runScript(b, b.fmt("search {s} tsan", .{t[0]}), "900", t[1], tsan_bin);
        tsan.setEnvironmentVariable("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
        tsan_step.dependOn(&tsan.step);
        test_step.dependOn(&runScript(b, b.fmt("search {s}", .{t[0]}), "600", t[1], exe.getEmittedBin()).step);
        const asan = runScript(b, b.fmt("search {s} asan", .{t[0]}), "900", t[1], asan_bin);
        asan.setEnvironmentVariable("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1");
        asan.setEnvironmentVariable("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        test_step.dependOn(&asan.step);
    }
    // search-tsan is in test-all since issue 15: its "no log line within
    // 60 s" flake was a libmicrohttpd message written in two pieces with a
    // log line landing between them (fixed in server.c's on_mhd_log).
    // The Go twin (search/go/) is tested against grep/find the same way, so
    // the benchmark compares equals.  Offline: standard library only.  Its own
    // step, not part of test-all: its SIGTERM-drain test once overran its
    // 20 s bound on a machine at load 20 (a net/http handler blocked in a
    // write to a client that never reads is not unblocked by its context).
    const go_step = b.step("search-go-test", "The Go twin's tests (search/go: results equal grep/find, bad input, hang-ups, SIGTERM)");
    const go_test = b.addSystemCommand(&.{ "sh", "-c", "cd search/go && GOFLAGS=-mod=mod GOPROXY=off go test -count=1 ." });
    go_test.setName("search go twin test");
    go_test.has_side_effects = true;
    go_test.stdio = .inherit;
    go_step.dependOn(&go_test.step);

    const browser_step = b.step("search-browser", "gochan-search in headless Chromium via Selenium (search/tests/browser.py)");
    browser_step.dependOn(&runScript(b, "search browser", "300", "search/tests/browser.py", exe.getEmittedBin()).step);

    // search-bench: the service side by side with its Go twin, rg, fdfind and
    // find (bench/search/run.sh; it builds the twin and installs the tools it
    // lacks).  Measured on the ReleaseFast build, as every benchmark is.
    const fast_exe = addService(b, o, .ReleaseFast, page);
    const bench = b.addSystemCommand(&.{ "sh", "-c", "GOCHAN_SEARCH_BIN=\"$1\" exec bash bench/search/run.sh", "sh" });
    bench.setName("bench/search/run.sh");
    bench.has_side_effects = true;
    bench.stdio = .inherit;
    bench.addFileArg(fast_exe.getEmittedBin());
    b.step("search-bench", "gochan-search vs its Go twin, rg, fdfind and find, interleaved (bench/search/run.sh)").dependOn(&bench.step);

    const demo = runScript(b, "search demo", "900", "search/demo.py", exe.getEmittedBin());
    for ([_][]const u8{ "demo", "search-demo" }) |name| {
        const demo_step = b.step(name, "The main job: gochan-search on a corpus sized from the measured scan rate; a client hangs up a quarter of the way through and the scan stops at once");
        demo_step.dependOn(&install.step);
        demo_step.dependOn(&demo.step);
    }
    // The main job runs in the test command too, so that it can never
    // break silently again (issue 15: it failed on a fast idle machine for
    // a whole stop while test-all was green).
    return .{
        .test_all = .{ test_step, tsan_step, browser_step, &demo.step },
        .srcs = listC(b, "search"),
        .include = page,
    };
}

/// The service as zig cc builds it, at @optimize.
fn addService(b: *std.Build, o: Options, optimize: std.builtin.OptimizeMode, page: std.Build.LazyPath) *std.Build.Step.Compile {
    const mod = b.createModule(.{
        .target = o.target,
        .optimize = optimize,
        .link_libc = true,
        // UBSan with messages where the library's tests have it; none in
        // the fast modes (a benchmark build: -Doptimize=ReleaseFast).
        .sanitize_c = switch (optimize) {
            .Debug, .ReleaseSafe => .full,
            .ReleaseFast, .ReleaseSmall => .off,
        },
    });
    for (o.include_dirs) |dir| mod.addIncludePath(dir);
    mod.addIncludePath(page);
    mod.addCSourceFiles(.{ .root = b.path("."), .files = listC(b, "search"), .flags = o.c_flags });
    mod.linkLibrary(o.lib);
    mod.linkSystemLibrary("libmicrohttpd", .{});
    mod.linkSystemLibrary("libpcre2-8", .{});
    mod.linkSystemLibrary("liburcu-cds", .{});
    mod.linkSystemLibrary("pthread", .{});
    return b.addExecutable(.{ .name = "gochan-search", .root_module = mod });
}

/// The service's own code under clang-14 -fsanitize=address,undefined (the
/// project's ASan flags), linked with the library as built for install (not
/// instrumented: `zig build asan` covers the library itself).
fn addAsanService(b: *std.Build, o: Options, page: std.Build.LazyPath) std.Build.LazyPath {
    const run = b.addSystemCommand(&.{"clang-14"});
    run.setName("clang-14 asan gochan-search");
    run.addArgs(o.c_flags);
    run.addArgs(o.asan_flags);
    for (o.include_dirs) |dir| run.addPrefixedDirectoryArg("-I", dir);
    run.addPrefixedDirectoryArg("-I", page);
    for (listC(b, "search")) |src| run.addFileArg(b.path(src));
    for (listFiles(b, "search", ".h")) |hdr| run.addFileInput(b.path(hdr)); // rebuild on header edits
    run.addFileArg(o.lib.getEmittedBin());
    run.addArgs(&.{ "-lmicrohttpd", "-lpcre2-8", "-lurcu-cds", "-o" });
    return run.addOutputFileArg("gochan-search-asan");
}

/// The service and the library compiled together by clang-14
/// -fsanitize=thread, the library from the sources and flags build.zig gives
/// (a new library file needs no edit here).  Not zig cc: its static
/// TSan runtime is not yet initialised when libmicrohttpd's dependencies
/// (gnutls -> p11-kit) call malloc from their constructors, and the program
/// crashes before main; clang's runtime initialises from .preinit_array.
fn addTsanService(b: *std.Build, o: Options, page: std.Build.LazyPath) std.Build.LazyPath {
    const run = b.addSystemCommand(&.{"clang-14"});
    run.setName("clang-14 tsan gochan-search");
    run.addArgs(o.c_flags);
    run.addArgs(&.{ "-fsanitize=thread", "-fno-omit-frame-pointer", "-g", "-O1" });
    for (o.include_dirs) |dir| run.addPrefixedDirectoryArg("-I", dir);
    run.addPrefixedDirectoryArg("-I", page);
    for (o.lib_srcs) |src| run.addFileArg(b.path(src));
    for (listC(b, "search")) |src| run.addFileArg(b.path(src));
    for (listFiles(b, "search", ".h")) |hdr| run.addFileInput(b.path(hdr));
    run.addArgs(&.{ "-lmicrohttpd", "-lpcre2-8", "-lurcu-cds", "-o" });
    return run.addOutputFileArg("gochan-search-tsan");
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
