//! gochan's build, for Zig 0.15.2 exactly (run it as `python3 -m ziglang build <step>`).
//!
//! Sources are discovered each time the build is configured, so adding a file
//! needs no edit here:
//!   chan/*.c select/*.c timer/*.c context/*.c   the library (libgochan)
//!   tests/*.c                                   Criterion suites, linked into one runner
//!   tests/stress/*.c                            plain programs with their own main()
//!   fuzz/fuzz_*.c + fuzz/replay_main.c          libFuzzer entry points + replay driver
//!   bench/*.c                                   one optimized program each
//!   examples/demo.c                             the demo
//!
//! Steps (`zig build -l` lists them): install (default), test, tsan, asan,
//! fuzz-replay, gcc-check, test-all, demo, bench, bench-bin.
const std = @import("std");
const Build = std.Build;
const LazyPath = Build.LazyPath;

const version: std.SemanticVersion = .{ .major = 0, .minor = 1, .patch = 0 };
const version_string = "0.1.0";

/// Every *.c file directly in these directories is part of the library.
const lib_dirs = [_][]const u8{ "chan", "select", "timer", "context", "diag", "poll", "group" };

/// The project's C dialect and warning policy (CONTRIBUTING.md), shared by
/// every compiler the build drives.
const std_flags = [_][]const u8{ "-std=c11", "-D_GNU_SOURCE", "-fno-strict-aliasing", "-pthread" };
const warn_flags = [_][]const u8{ "-Wall", "-Wextra", "-Werror" };
const c_flags = std_flags ++ warn_flags;

/// Include paths: the public headers, and the repository root so that
/// internal headers are reached as "chan/chan_internal.h" from any module.
const include_dirs = [_][]const u8{ "include", "." };

/// Flags of the clang-14 AddressSanitizer + UndefinedBehaviorSanitizer build
/// (Zig has no ASan for C, so `zig build asan` and `fuzz-replay` drive clang).
const asan_flags = [_][]const u8{
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
    "-fno-sanitize-recover=undefined",
    "-g",
    "-O1",
};

/// Wall-clock limits (seconds) on each program a test step runs, so that a
/// deadlock fails the step instead of hanging CI.  Criterion also enforces
/// each test's own .timeout.
const runner_timeout = "900";
const program_timeout = "300";

const Ctx = struct {
    b: *Build,
    target: Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib_srcs: []const []const u8,
};

pub fn build(b: *Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.option(
        std.builtin.OptimizeMode,
        "optimize",
        "Optimization of the library, tests and demo (default ReleaseSafe; benches are always ReleaseFast)",
    ) orelse .ReleaseSafe;
    const criterion_jobs = b.option([]const u8, "jobs", "Criterion worker processes (default 2)") orelse "2";

    var lib_srcs: std.ArrayList([]const u8) = .empty;
    for (lib_dirs) |dir| lib_srcs.appendSlice(b.allocator, listFiles(b, dir, "", ".c")) catch @panic("OOM");
    const ctx: Ctx = .{ .b = b, .target = target, .optimize = optimize, .lib_srcs = lib_srcs.items };

    const test_srcs = listFiles(b, "tests", "", ".c");
    const stress_srcs = listFiles(b, "tests/stress", "", ".c");
    const fuzz_srcs = listFiles(b, "fuzz", "fuzz_", ".c");
    const bench_srcs = listFiles(b, "bench", "", ".c");

    // ---- install: libgochan.a, libgochan.so.0.1.0 (SONAME libgochan.so.0), headers, gochan.pc
    // Installed libraries trap on undefined behaviour in safe modes but need
    // no sanitizer runtime, so gcc users can link libgochan.a as is.
    const static_lib = addLib(ctx, .{ .name = "gochan", .linkage = .static, .sanitize_c = .trap });
    const shared_lib = addLib(ctx, .{ .name = "gochan", .linkage = .dynamic, .sanitize_c = .trap });
    b.installArtifact(static_lib);
    b.installArtifact(shared_lib);
    b.installDirectory(.{
        .source_dir = b.path("include"),
        .install_dir = .header,
        .install_subdir = "",
        .include_extensions = &.{".h"},
    });
    const pc = b.addWriteFiles().add("gochan.pc", b.fmt(
        \\prefix={s}
        \\exec_prefix=${{prefix}}
        \\libdir=${{prefix}}/lib
        \\includedir=${{prefix}}/include
        \\
        \\Name: gochan
        \\Description: Go's channels, select, timers and context in C
        \\Version: {s}
        \\Requires.private: liburcu-cds
        \\Libs: -L${{libdir}} -lgochan
        \\Libs.private: -pthread
        \\Cflags: -I${{includedir}}
        \\
    , .{ b.install_prefix, version_string }));
    b.getInstallStep().dependOn(&b.addInstallFileWithDir(pc, .lib, "pkgconfig/gochan.pc").step);

    // The library as the tests see it (not installed): UBSan with messages
    // and stack traces (zig's runtime), so every program linking it is .full too.
    const test_lib = addLib(ctx, .{ .name = "gochan-test", .linkage = .static, .sanitize_c = .full });

    // ---- test: the Criterion runner + every stress program
    const test_step = b.step("test", "Criterion suites (tests/*.c, one runner) and stress programs (tests/stress/*.c)");
    if (test_srcs.len > 0) {
        const mod = addExeModule(ctx, test_srcs, .{ .sanitize_c = .full });
        mod.linkLibrary(test_lib);
        mod.linkSystemLibrary("criterion", .{});
        const exe = b.addExecutable(.{ .name = "gochan-tests", .root_module = mod });
        // Criterion finds its tests by reading their ELF sections, which
        // nothing references: the linker must not collect them.
        exe.link_gc_sections = false;
        test_step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } }).step);
        const run = runWithTimeout(b, runner_timeout, "run gochan-tests");
        run.addArtifactArg(exe);
        run.addArg(b.fmt("--jobs={s}", .{criterion_jobs}));
        test_step.dependOn(&run.step);
    }
    for (stress_srcs) |src| {
        const mod = addExeModule(ctx, &.{src}, .{ .sanitize_c = .full });
        mod.linkLibrary(test_lib);
        const exe = b.addExecutable(.{ .name = b.fmt("stress-{s}", .{stem(src)}), .root_module = mod });
        const run = runWithTimeout(b, program_timeout, b.fmt("run stress {s}", .{stem(src)}));
        run.addArtifactArg(exe);
        test_step.dependOn(&run.step);
    }

    // ---- tsan: the library and every stress program under ThreadSanitizer (zig cc)
    const tsan_step = b.step("tsan", "Stress programs (tests/stress/*.c) under ThreadSanitizer");
    if (stress_srcs.len > 0) {
        const tsan_lib = addLib(ctx, .{ .name = "gochan-tsan", .linkage = .static, .tsan = true });
        for (stress_srcs) |src| {
            const mod = addExeModule(ctx, &.{src}, .{ .tsan = true });
            mod.linkLibrary(tsan_lib);
            const exe = b.addExecutable(.{ .name = b.fmt("tsan-{s}", .{stem(src)}), .root_module = mod });
            const run = runWithTimeout(b, program_timeout, b.fmt("tsan {s}", .{stem(src)}));
            run.addArtifactArg(exe);
            // A reported race or deadlock ends the program with a failure.
            run.setEnvironmentVariable("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
            tsan_step.dependOn(&run.step);
        }
    }

    // ---- asan: clang-14 -fsanitize=address,undefined over the lib, the runner, the stress programs
    const asan_step = b.step("asan", "Criterion runner and stress programs under ASan+UBSan (clang-14)");
    const asan_lib_objs = asanCompileAll(b, lib_srcs.items, false);
    if (test_srcs.len > 0) {
        // scripts/asan_criterion.c keeps LeakSanitizer to the test workers.
        const objs = concat(b, asan_lib_objs, asanCompileAll(b, std.mem.concat(b.allocator, []const u8, &.{ test_srcs, &.{"scripts/asan_criterion.c"} }) catch @panic("OOM"), true));
        const exe = asanLink(b, "gochan-tests-asan", objs, true);
        const run = runAsan(b, runner_timeout, "asan gochan-tests", exe);
        run.addArg(b.fmt("--jobs={s}", .{criterion_jobs}));
        asan_step.dependOn(&run.step);
    }
    for (stress_srcs) |src| {
        const objs = concat(b, asan_lib_objs, asanCompileAll(b, &.{src}, false));
        const exe = asanLink(b, b.fmt("asan-{s}", .{stem(src)}), objs, false);
        const run = runAsan(b, program_timeout, b.fmt("asan {s}", .{stem(src)}), exe);
        asan_step.dependOn(&run.step);
    }

    // ---- fuzz-replay: each harness + fuzz/replay_main.c (ASan+UBSan) over its corpus and regressions
    const fuzz_step = b.step("fuzz-replay", "Replay fuzz/corpus/<name> and fuzz/regressions/<name> through each fuzz/fuzz_<name>.c (ASan+UBSan)");
    if (fuzz_srcs.len > 0 and fileExists(b, "fuzz/replay_main.c")) {
        const main_objs = concat(b, asan_lib_objs, asanCompileAll(b, &.{"fuzz/replay_main.c"}, false));
        for (fuzz_srcs) |src| {
            const name = stem(src)["fuzz_".len..];
            const objs = concat(b, main_objs, asanCompileAll(b, &.{src}, false));
            const exe = asanLink(b, b.fmt("replay-{s}", .{name}), objs, false);
            // Building the replayer is a check in itself, even with no inputs yet.
            fuzz_step.dependOn(&b.addInstallFileWithDir(exe, .{ .custom = "fuzz" }, b.fmt("replay-{s}", .{name})).step);
            var dirs: std.ArrayList([]const u8) = .empty;
            for ([_][]const u8{ "fuzz/corpus", "fuzz/regressions" }) |parent| {
                const dir = b.fmt("{s}/{s}", .{ parent, name });
                if (dirExists(b, dir)) dirs.append(b.allocator, dir) catch @panic("OOM");
            }
            if (dirs.items.len == 0) continue;
            const run = runAsan(b, program_timeout, b.fmt("replay {s}", .{name}), exe);
            for (dirs.items) |dir| run.addDirectoryArg(b.path(dir));
            fuzz_step.dependOn(&run.step);
        }
    }

    // ---- gcc-check: gcc 12 -O2 -Wall -Wextra -Werror over every C file of the project,
    // and each public header compiled on its own (self-contained).
    const gcc_step = b.step("gcc-check", "Compile every C source and public header with gcc -Wall -Wextra -Werror");
    {
        var all: std.ArrayList([]const u8) = .empty;
        const groups = [_][]const []const u8{
            lib_srcs.items,                                  test_srcs,
            stress_srcs,                                     fuzz_srcs,
            listFiles(b, "fuzz", "replay_main", ".c"),       bench_srcs,
            listFiles(b, "examples", "", ".c"),
        };
        for (groups) |g| all.appendSlice(b.allocator, g) catch @panic("OOM");
        for (all.items) |src| {
            const run = b.addSystemCommand(&.{"gcc"});
            run.setName(b.fmt("gcc {s}", .{src}));
            run.addArgs(&c_flags);
            run.addArgs(&.{ "-O2", "-Iinclude", "-I." });
            if (std.mem.startsWith(u8, src, "tests/") and !std.mem.startsWith(u8, src, "tests/stress/"))
                run.addArgs(pkgConfig(b, "--cflags", "criterion"));
            run.addArgs(&.{ "-MD", "-c" });
            run.addFileArg(b.path(src));
            run.addArg("-o");
            _ = run.addOutputFileArg("check.o");
            _ = run.addPrefixedDepFileOutputArg("-MF", "check.d");
            gcc_step.dependOn(&run.step);
        }
        for (listFiles(b, "include/gochan", "", ".h")) |hdr| {
            const run = b.addSystemCommand(&.{"gcc"});
            run.setName(b.fmt("gcc {s}", .{hdr}));
            run.addArgs(&c_flags);
            run.addArgs(&.{ "-Iinclude", "-MD", "-fsyntax-only", "-x", "c" });
            run.addFileArg(b.path(hdr));
            _ = run.addPrefixedDepFileOutputArg("-MF", "check.d");
            gcc_step.dependOn(&run.step);
        }
    }

    // ---- fuzz-short: a bounded libFuzzer run of every harness (CI's share of fuzzing).
    // FUZZ_SECONDS (default 20) per harness; fuzz/run.sh fails if any harness finds a crash.
    const fuzz_short_step = b.step("fuzz-short", "libFuzzer run of every fuzz/fuzz_<name>.c, FUZZ_SECONDS (default 20) each");
    if (fuzz_srcs.len > 0 and fileExists(b, "fuzz/run.sh")) {
        const secs = b.graph.env_map.get("FUZZ_SECONDS") orelse "20";
        const run = b.addSystemCommand(&.{ "sh", "fuzz/run.sh", secs });
        run.setName("fuzz-short");
        run.has_side_effects = true;
        fuzz_short_step.dependOn(&run.step);
    }

    // ---- test-all: THE test command
    const all_step = b.step("test-all", "gcc-check + test + tsan + asan + fuzz-replay + fuzz-short");
    all_step.dependOn(fuzz_short_step);
    all_step.dependOn(gcc_step);
    all_step.dependOn(test_step);
    all_step.dependOn(tsan_step);
    all_step.dependOn(asan_step);
    all_step.dependOn(fuzz_step);
    all_step.dependOn(b.getInstallStep());

    // ---- demo
    const demo_step = b.step("demo", "Build and run examples/demo.c");
    if (fileExists(b, "examples/demo.c")) {
        const mod = addExeModule(ctx, &.{"examples/demo.c"}, .{});
        mod.linkLibrary(static_lib);
        const exe = b.addExecutable(.{ .name = "gochan-demo", .root_module = mod });
        demo_step.dependOn(&b.addInstallArtifact(exe, .{}).step);
        const run = runWithTimeout(b, program_timeout, "run demo");
        run.addArtifactArg(exe);
        demo_step.dependOn(&run.step);
    }

    @import("search/build_search.zig").addSteps(b, target, optimize, static_lib); // search/: gochan-search

    // ---- bench-bin / bench
    const bench_bin_step = b.step("bench-bin", "Build every bench/*.c (ReleaseFast) into zig-out/bench/");
    {
        const bctx: Ctx = .{ .b = b, .target = target, .optimize = .ReleaseFast, .lib_srcs = lib_srcs.items };
        const bench_lib = addLib(bctx, .{ .name = "gochan-bench", .linkage = .static, .sanitize_c = .off });
        for (bench_srcs) |src| {
            const mod = addExeModule(bctx, &.{src}, .{ .sanitize_c = .off });
            mod.linkLibrary(bench_lib);
            const exe = b.addExecutable(.{ .name = stem(src), .root_module = mod });
            bench_bin_step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } }).step);
        }
    }
    const bench_step = b.step("bench", "Build the benches and run bench/run.sh");
    if (fileExists(b, "bench/run.sh")) {
        const run = b.addSystemCommand(&.{ "bash", "bench/run.sh" });
        run.setName("bench/run.sh");
        run.has_side_effects = true;
        run.stdio = .inherit;
        run.setEnvironmentVariable("GOCHAN_BENCH_BIN", b.getInstallPath(.{ .custom = "bench" }, ""));
        run.step.dependOn(bench_bin_step);
        bench_step.dependOn(&run.step);
    } else bench_step.dependOn(bench_bin_step);
}

const LibOptions = struct {
    name: []const u8,
    linkage: std.builtin.LinkMode,
    tsan: bool = false,
    sanitize_c: ?std.zig.SanitizeC = null,
};

/// libgochan from the discovered sources, built by zig cc.
fn addLib(ctx: Ctx, o: LibOptions) *Build.Step.Compile {
    const b = ctx.b;
    const mod = b.createModule(.{
        .target = ctx.target,
        .optimize = ctx.optimize,
        .link_libc = true,
        .pic = true,
        .sanitize_thread = o.tsan,
        .sanitize_c = o.sanitize_c,
    });
    addIncludes(b, mod);
    mod.addCSourceFiles(.{ .root = b.path("."), .files = ctx.lib_srcs, .flags = &c_flags });
    // Only the shared library records its dependencies (as DT_NEEDED); for a
    // static one zig would copy the .so files into the archive, so the
    // programs that link libgochan.a link urcu themselves (gochan.pc says so).
    if (o.linkage == .dynamic) {
        mod.linkSystemLibrary("liburcu-cds", .{});
        mod.linkSystemLibrary("pthread", .{});
    }
    return b.addLibrary(.{
        .linkage = o.linkage,
        .name = o.name,
        .root_module = mod,
        .version = if (o.linkage == .dynamic) version else null,
    });
}

const ExeOptions = struct {
    tsan: bool = false,
    sanitize_c: ?std.zig.SanitizeC = null,
};

/// A program's module: @srcs with the project's flags, libc, urcu, pthread.
/// The caller links the flavour of libgochan it wants.
fn addExeModule(ctx: Ctx, srcs: []const []const u8, o: ExeOptions) *Build.Module {
    const b = ctx.b;
    const mod = b.createModule(.{
        .target = ctx.target,
        .optimize = ctx.optimize,
        .link_libc = true,
        .sanitize_thread = o.tsan,
        .sanitize_c = o.sanitize_c,
    });
    addIncludes(b, mod);
    mod.addCSourceFiles(.{ .root = b.path("."), .files = srcs, .flags = &c_flags });
    mod.linkSystemLibrary("liburcu-cds", .{});
    mod.linkSystemLibrary("pthread", .{});
    return mod;
}

fn addIncludes(b: *Build, mod: *Build.Module) void {
    for (include_dirs) |dir| mod.addIncludePath(b.path(dir));
}

/// A program a test step runs, through scripts/run-prog.sh (a timeout, and a
/// line naming it and its outcome); its output goes straight to the terminal
/// (CI reads Criterion's "Synthesis:" line from it).
fn runWithTimeout(b: *Build, seconds: []const u8, name: []const u8) *Build.Step.Run {
    const run = b.addSystemCommand(&.{"bash"});
    run.addFileArg(b.path("scripts/run-prog.sh"));
    run.addArgs(&.{ name, seconds });
    run.setName(name);
    run.has_side_effects = true;
    run.stdio = .inherit;
    return run;
}

/// A program built by asanLink, run through scripts/asan-run.sh (which fails
/// on any sanitizer report, also from Criterion's worker processes).
/// allocator_may_return_null: tests check that absurd sizes give ENOMEM
/// instead of ASan aborting the process.
fn runAsan(b: *Build, seconds: []const u8, name: []const u8, exe: LazyPath) *Build.Step.Run {
    const run = runWithTimeout(b, seconds, name);
    run.addArgs(&.{"bash"});
    run.addFileArg(b.path("scripts/asan-run.sh"));
    run.addFileArg(exe);
    run.setEnvironmentVariable("ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1");
    run.setEnvironmentVariable("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    return run;
}

/// clang-14 -c of each source with the ASan/UBSan flags; one cached object each
/// (the dep file makes header edits rebuild it).
fn asanCompileAll(b: *Build, srcs: []const []const u8, criterion: bool) []const LazyPath {
    const objs = b.allocator.alloc(LazyPath, srcs.len) catch @panic("OOM");
    for (srcs, objs) |src, *obj| {
        const run = b.addSystemCommand(&.{"clang-14"});
        run.setName(b.fmt("clang-14 asan {s}", .{src}));
        run.addArgs(&c_flags);
        run.addArgs(&asan_flags);
        run.addArgs(&.{ "-Iinclude", "-I." });
        if (criterion) run.addArgs(pkgConfig(b, "--cflags", "criterion"));
        run.addArgs(&.{ "-MD", "-c" });
        run.addFileArg(b.path(src));
        run.addArg("-o");
        obj.* = run.addOutputFileArg(b.fmt("{s}.o", .{stem(src)}));
        _ = run.addPrefixedDepFileOutputArg("-MF", "obj.d");
    }
    return objs;
}

fn asanLink(b: *Build, name: []const u8, objs: []const LazyPath, criterion: bool) LazyPath {
    const run = b.addSystemCommand(&.{"clang-14"});
    run.setName(b.fmt("clang-14 link {s}", .{name}));
    run.addArgs(&asan_flags);
    run.addArg("-pthread");
    for (objs) |obj| run.addFileArg(obj);
    run.addArg("-o");
    const exe = run.addOutputFileArg(name);
    if (criterion) run.addArgs(pkgConfig(b, "--libs", "criterion"));
    run.addArgs(pkgConfig(b, "--libs", "liburcu-cds"));
    return exe;
}

/// `pkg-config <what> <pkg>` split into arguments, run at configure time.
fn pkgConfig(b: *Build, what: []const u8, pkg: []const u8) []const []const u8 {
    const out = b.run(&.{ "pkg-config", what, pkg });
    var args: std.ArrayList([]const u8) = .empty;
    var it = std.mem.tokenizeAny(u8, out, " \t\r\n");
    while (it.next()) |arg| args.append(b.allocator, arg) catch @panic("OOM");
    return args.items;
}

/// "dir/<prefix>*<suffix>" regular files, sorted, relative to the build root.
/// A missing directory is an empty list.
fn listFiles(b: *Build, dir_path: []const u8, prefix: []const u8, suffix: []const u8) []const []const u8 {
    var list: std.ArrayList([]const u8) = .empty;
    var dir = b.build_root.handle.openDir(dir_path, .{ .iterate = true }) catch return &.{};
    defer dir.close();
    var it = dir.iterate();
    while (it.next() catch @panic("cannot list source directory")) |entry| {
        if (entry.kind != .file and entry.kind != .sym_link) continue;
        if (!std.mem.startsWith(u8, entry.name, prefix) or !std.mem.endsWith(u8, entry.name, suffix)) continue;
        if (entry.name[0] == '.') continue; // editor temporaries
        list.append(b.allocator, b.fmt("{s}/{s}", .{ dir_path, entry.name })) catch @panic("OOM");
    }
    std.mem.sort([]const u8, list.items, {}, struct {
        fn lessThan(_: void, lhs: []const u8, rhs: []const u8) bool {
            return std.mem.lessThan(u8, lhs, rhs);
        }
    }.lessThan);
    return list.items;
}

fn fileExists(b: *Build, path: []const u8) bool {
    const st = b.build_root.handle.statFile(path) catch return false;
    return st.kind == .file;
}

fn dirExists(b: *Build, path: []const u8) bool {
    var dir = b.build_root.handle.openDir(path, .{}) catch return false;
    dir.close();
    return true;
}

fn stem(path: []const u8) []const u8 {
    return std.fs.path.stem(std.fs.path.basename(path));
}

fn concat(b: *Build, x: []const LazyPath, y: []const LazyPath) []const LazyPath {
    return std.mem.concat(b.allocator, LazyPath, &.{ x, y }) catch @panic("OOM");
}
