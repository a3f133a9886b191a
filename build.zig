//! gochan's build, for Zig 0.15.2 exactly (run it as `python3 -m ziglang build <step>`).
//!
//! Sources are discovered each time the build is configured, so adding a file
//! needs no edit here:
//!   wait/ service/ chan/ select/ timer/ context/ diag/ poll/ group/ version/ fiber/   *.c: the library (libgochan)
//!   tests/*.c                                   Criterion suites, linked into one runner
//!   tests/stress/*.c                            plain programs with their own main()
//!   fuzz/fuzz_*.c + fuzz/replay_main.c          libFuzzer entry points + replay driver
//!   bench/*.c                                   one optimized program each
//!   examples/*.c                                example programs (built as C and as C++)
//!   examples/zig-consumer/                      a Zig project that depends on this package
//!
//! Steps (`zig build -l` lists them): install (default), test, test-fibers,
//! debug-test, tsan, tsan-fibers, asan, asan-fibers, fuzz-replay, fuzz-short,
//! gcc-check, cxx-check, examples, zig-consumer, version-check, symbols-check, install-check, tsan-consumer,
//! man-check, libuv-example, layers-check, docs-check, gdb-fibers, test-arm64,
//! test-arm64-fibers, test-all,
//! demo, bench, bench-bin.
//!
//! What configuring needs.  Only the library's own dependencies (liburcu
//! through pkg-config, pthreads): every other tool (Criterion's pkg-config
//! file, gcc, g++, clang-14, AFL++, Go, qemu) is looked up by the steps that
//! use it, when they run, so `zig build` and `zig build install` work on a
//! machine that has only liburcu (`scripts/setup.sh` without --test).
//!
//! Used as a package (build.zig.zon): `b.dependency("gochan", .{ .target =
//! target, .optimize = optimize })` gives
//!   artifact "gochan"   libgochan.a with the public headers (linkLibrary it;
//!                       also link liburcu-cds and pthread, or use the module);
//!   module "gochan"     zig/gochan.zig (`@cImport` of <gochan.h>), which links
//!                       libgochan.a, liburcu-cds and pthread for whoever imports it.
//! examples/zig-consumer/ does both.
const std = @import("std");
const builtin = @import("builtin");
const Build = std.Build;
const LazyPath = Build.LazyPath;
const search_build = @import("search/build_search.zig");

/// THE version number: build.zig.zon's.  The SONAME, gochan.pc and the
/// version-check step (which compares include/gochan/version.h and
/// gochan_version() with it) all read it from here.
const zon = @import("build.zig.zon");
const version = std.SemanticVersion.parse(zon.version) catch @compileError("build.zig.zon: bad version");

/// Every *.c file directly in these directories is part of the library.
/// (A new directory must also be listed in build.zig.zon's .paths.)
/// wait/ is the layer below the others (docs/design.md, "Layers";
/// scripts/include-graph.py checks the include graph).  scripts/lib-srcs.sh
/// and scripts/include-graph.py read the next line as it is: keep it one line.
const lib_dirs = [_][]const u8{ "wait", "service", "chan", "select", "timer", "context", "diag", "poll", "group", "version", "fiber" };

/// The project's C dialect and warning policy (CONTRIBUTING.md), shared by
/// every compiler the build drives (search/build_search.zig receives it).
const std_flags = [_][]const u8{ "-std=c11", "-D_GNU_SOURCE", "-fno-strict-aliasing", "-pthread" };
const warn_flags = [_][]const u8{ "-Wall", "-Wextra", "-Werror" };
const c_flags = std_flags ++ warn_flags;
/// The same policy for C++ users of the public headers (cxx-check).
const cxx_flags = [_][]const u8{ "-std=c++17", "-D_GNU_SOURCE", "-pthread" } ++ warn_flags;
/// What users' strict builds add, and what the public macros must survive
/// (issue 20): nested CHAN_RANGE vs -Wshadow, CHAN_SEND of a const value vs
/// -Wcast-qual.  The examples build with them (examples, cxx-check).
const user_strict_flags = [_][]const u8{ "-Wshadow", "-Wcast-qual" };
/// A user's strict C build: the public headers alone, the examples (gcc-check).
const c_strict_flags = c_flags ++ user_strict_flags;
/// C++ adds -Wold-style-cast: the public headers and tests/cxx_macros.cpp
/// build with it (the examples are C, with C's casts of their own).
const cxx_strict_flags = cxx_flags ++ user_strict_flags ++ [_][]const u8{"-Wold-style-cast"};

/// Include paths.  public_include: the public headers, all a user's code
/// has (and all a header's self-containment check gets); the project's own
/// code also has the repository root, so that internal headers are reached
/// as "chan/chan_internal.h" from any module.
const public_include = "include";
const include_dirs = [_][]const u8{ public_include, "." };
/// The umbrella header users include.
const umbrella_header = public_include ++ "/gochan.h";

/// Flags of the clang-14 AddressSanitizer + UndefinedBehaviorSanitizer build
/// (Zig has no ASan for C, so `zig build asan` and `fuzz-replay` drive clang;
/// search-test's ASan build of the service uses them too).
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
/// Under qemu-aarch64 everything runs several times slower.
const qemu_runner_timeout = "1800";
const qemu_program_timeout = "900";

const Ctx = struct {
    b: *Build,
    target: Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    lib_srcs: []const []const u8,
    /// For a cross target: a directory of unpacked Debian packages searched
    /// (after the multiarch directories) for libraries and headers.
    sysroot: ?[]const u8 = null,
};

/// What every family of steps is made from: the options, and the sources
/// found in the tree when the build is configured.
const Project = struct {
    ctx: Ctx,
    /// Criterion worker processes (-Djobs).
    jobs: []const u8,
    /// Where Debian's arm64 Criterion is unpacked (-Darm64-sysroot).
    arm64_sysroot: []const u8,
    tests: []const []const u8,
    stress: []const []const u8,
    fuzz: []const []const u8,
    bench: []const []const u8,
    examples: []const []const u8,
    /// include/gochan/*.h (the umbrella header aside).
    headers: []const []const u8,

    fn init(b: *Build) Project {
        const target = b.standardTargetOptions(.{});
        const optimize = b.option(
            std.builtin.OptimizeMode,
            "optimize",
            "Optimization of the library, tests and demo (default ReleaseSafe; benches are always ReleaseFast)",
        ) orelse .ReleaseSafe;
        const jobs = b.option([]const u8, "jobs", "Criterion worker processes (default 2)") orelse "2";
        const arm64_sysroot = b.option([]const u8, "arm64-sysroot", "Where scripts/setup.sh --test unpacked Debian's arm64 Criterion (default /opt/gochan-arm64)") orelse "/opt/gochan-arm64";
        var lib_srcs: std.ArrayList([]const u8) = .empty;
        for (lib_dirs) |dir| lib_srcs.appendSlice(b.allocator, listFiles(b, dir, "", ".c")) catch @panic("OOM");
        return .{
            .ctx = .{ .b = b, .target = target, .optimize = optimize, .lib_srcs = lib_srcs.items },
            .jobs = jobs,
            .arm64_sysroot = arm64_sysroot,
            .tests = listFiles(b, "tests", "", ".c"),
            .stress = listFiles(b, "tests/stress", "", ".c"),
            .fuzz = listFiles(b, "fuzz", "fuzz_", ".c"),
            .bench = listFiles(b, "bench", "", ".c"),
            .examples = listFiles(b, "examples", "", ".c"),
            .headers = listFiles(b, public_include ++ "/gochan", "", ".h"),
        };
    }
};

/// What the install step builds, which other steps use.
const Installed = struct {
    /// libgochan.a, as installed (the examples, the consumers, search link it).
    static_lib: *Build.Step.Compile,
    /// libgochan.so.X.Y.Z, exporting only the public API.
    shared_lib: *Build.Step.Compile,
    /// gochan.pc.
    pc: LazyPath,
    /// The reference manual: man3/ and html/.
    man_dir: LazyPath,
};

/// The list of steps, in the order `zig build -l` shows them; each family
/// of steps is made by the function named here, below.
pub fn build(b: *Build) void {
    const p = Project.init(b);
    const inst = addInstall(p);

    const tests = testStep(p);
    const test_step = tests.threads;
    const arm64 = arm64TestStep(p);
    const arm64_step = arm64.threads;
    const tsan = tsanStep(p);
    const tsan_step = tsan.tsan;
    const asan = asanSteps(p);
    const gcc_step = gccCheckStep(p);
    const cxx_step = cxxCheckStep(p, inst);
    const examples_step = examplesStep(p, inst);
    const consumer_step = zigConsumerStep(p);
    const version_step = versionCheckStep(p, inst);
    const symbols_step = symbolsCheckStep(p, inst);
    const install_check_step = installCheckStep(p);
    const libuv_step = libuvExampleStep(p, inst);
    const man_step = manCheckStep(p, inst);
    const tsan_consumer_step = tsanConsumerStep(p);
    const fuzz_short_step = fuzzShortStep(p);
    const debug_step = debugTestStep(p);
    const layers_step = layersCheckStep(p);
    const docs_step = docsCheckStep(p);
    const gdb_step = gdbFibersStep(p);

    // ---- test-all: THE test command
    const all_step = b.step("test-all", "gcc-check + cxx-check + test + debug-test + tsan + asan + fuzz-replay + fuzz-short + examples + zig-consumer + version-check + symbols-check + install-check + tsan-consumer + man-check + libuv-example + layers-check + docs-check + gdb-fibers + test-arm64 + test-fibers + tsan-fibers + asan-fibers");
    for ([_]*Build.Step{
        fuzz_short_step, gcc_step,     cxx_step,           test_step,          tsan_step,
        asan.asan,       asan.replay,  examples_step,      consumer_step,      version_step,
        arm64_step,      symbols_step, install_check_step, tsan_consumer_step, man_step,
        libuv_step,      debug_step,   layers_step,        docs_step,          b.getInstallStep(),
        gdb_step,        tests.fibers, tsan.fibers,        asan.fibers,
    }) |s| all_step.dependOn(s);
    // test-arm64-fibers is not part of test-all: under qemu it costs about
    // as much as test-arm64 itself (9.5 min on the shared 2-core machine,
    // tests/README.md), beyond the budget of the fiber runs.

    // ---- the main job: the search service (search/build_search.zig) makes
    // the `demo` step, the README's first command, and its own steps from
    // the installed static library; test-all runs its tests and the demo,
    // gcc-check compiles its sources.
    const search = search_build.addSteps(b, .{
        .target = p.ctx.target,
        .optimize = p.ctx.optimize,
        .lib = inst.static_lib,
        .lib_srcs = p.ctx.lib_srcs,
        .include_dirs = paths(b, &include_dirs),
        .c_flags = &c_flags,
        .asan_flags = &asan_flags,
    });
    for (search.test_all) |s| all_step.dependOn(s);
    for (search.srcs) |src| gcc_step.dependOn(&gccCompileCheck(b, src, &.{}, &.{search.include}).step);

    benchSteps(p);
    bugsTableStep(p);
}

// ---- install: libgochan.a, libgochan.so.X.Y.Z (SONAME libgochan.so.X), headers,
// gochan.pc, CMake's config files, the manual; uninstall; the Zig module.
fn addInstall(p: Project) Installed {
    const b = p.ctx.b;
    // Installed libraries trap on undefined behaviour in safe modes but need
    // no sanitizer runtime, so gcc users can link libgochan.a as is.
    const static_lib = addLib(p.ctx, .{ .name = "gochan", .linkage = .static, .sanitize_c = .trap });
    const shared_lib = addLib(p.ctx, .{ .name = "gochan", .linkage = .dynamic, .sanitize_c = .trap });
    // Export only the public API, versioned GOCHAN_0 (symbols-check;
    // README.md "ABI policy").  Every program of the project that needs an
    // internal symbol (the tests, stress programs, benches) links a static
    // flavour of the library instead.
    shared_lib.version_script = b.path("version/libgochan.map");
    // The headers travel with the static library: installed next to it, and
    // on the include path of everything that links it (a package's users).
    static_lib.installHeadersDirectory(b.path(public_include), "", .{ .include_extensions = &.{".h"} });
    b.installArtifact(static_lib);
    // The shared library is installed through a step of its own, so that the
    // install step lists exactly one artifact named "gochan" (the static one)
    // and a package user's `dep.artifact("gochan")` is not ambiguous.
    const install_shared = b.step("install-shared", "Install only libgochan.so (part of install)");
    install_shared.dependOn(&b.addInstallArtifact(shared_lib, .{}).step);
    b.getInstallStep().dependOn(install_shared);
    // gochan.pc.  No Requires: no public header includes liburcu, and
    // neither library references a liburcu symbol (only its header-only
    // lists and macros are used), so libgochan.so NEEDs only libc and a
    // static link needs only -pthread.  libdir and includedir follow
    // --prefix-lib-dir / --prefix-include-dir; under DESTDIR (staging) the
    // files land in $DESTDIR$prefix but name the final paths.
    const pc = b.addWriteFiles().add("gochan.pc", b.fmt(
        \\prefix={s}
        \\exec_prefix=${{prefix}}
        \\libdir={s}
        \\includedir={s}
        \\
        \\Name: gochan
        \\Description: Go's channels, select, timers and context in C
        \\Version: {s}
        \\Libs: -L${{libdir}} -lgochan
        \\Libs.private: -pthread
        \\Cflags: -I${{includedir}}
        \\
    , .{ b.install_prefix, installedDir(b, b.lib_dir), installedDir(b, b.h_dir), zon.version }));
    const install_pc = b.addInstallFileWithDir(pc, .lib, "pkgconfig/gochan.pc");
    b.getInstallStep().dependOn(&install_pc.step);
    // CMake's find_package(gochan): <libdir>/cmake/gochan/, relocatable (the
    // paths are found from the config file's own directory).
    {
        const wf = b.addWriteFiles();
        const rel_inc = std.fs.path.relative(b.allocator, b.lib_dir, b.h_dir) catch @panic("OOM");
        const config = wf.add("gochanConfig.cmake", b.fmt(cmake_config, .{
            zon.version, rel_inc, version.major, zon.version, version.major,
        }));
        const config_version = wf.add("gochanConfigVersion.cmake", b.fmt(cmake_config_version, .{zon.version}));
        b.getInstallStep().dependOn(&b.addInstallFileWithDir(config, .lib, "cmake/gochan/gochanConfig.cmake").step);
        b.getInstallStep().dependOn(&b.addInstallFileWithDir(config_version, .lib, "cmake/gochan/gochanConfigVersion.cmake").step);
    }

    // The reference manual from the headers' comments (scripts/gen-man.py):
    // share/man/man3 (one page per header, `man <function>` for each public
    // function) and share/doc/gochan/gochan-reference.html.  It fails if a
    // public function has no doc comment.
    const gen_man = b.addSystemCommand(&.{"python3"});
    gen_man.setName("gen-man");
    gen_man.addFileArg(b.path("scripts/gen-man.py"));
    gen_man.addDirectoryArg(b.path(public_include));
    const man_dir = gen_man.addOutputDirectoryArg("reference");
    gen_man.addArg(zon.version);
    // A directory argument is not hashed by content: list the headers, so
    // that editing one regenerates the pages.
    for (p.headers) |hdr| gen_man.addFileInput(b.path(hdr));
    b.getInstallStep().dependOn(&b.addInstallDirectory(.{
        .source_dir = man_dir.path(b, "man3"),
        .install_dir = .prefix,
        .install_subdir = "share/man/man3",
    }).step);
    b.getInstallStep().dependOn(&b.addInstallDirectory(.{
        .source_dir = man_dir.path(b, "html"),
        .install_dir = .prefix,
        .install_subdir = "share/doc/gochan",
    }).step);

    // `zig build uninstall`: Zig 0.15.2's own panics (ziglang/zig#14943), so
    // it is ours: remove exactly what install puts there (same --prefix,
    // --prefix-lib-dir and DESTDIR as the install).
    b.getUninstallStep().makeFn = uninstall;

    // For Zig users of the package: `@import("gochan")` is the C API through
    // @cImport, and importing the module links everything it needs.
    const zig_mod = b.addModule("gochan", .{
        .root_source_file = b.path("zig/gochan.zig"),
        .target = p.ctx.target,
        .optimize = p.ctx.optimize,
        .link_libc = true,
    });
    zig_mod.linkLibrary(static_lib);
    linkUrcu(b, zig_mod, p.ctx.target);

    return .{ .static_lib = static_lib, .shared_lib = shared_lib, .pc = pc, .man_dir = man_dir };
}

// ---- test: the Criterion runner + every stress program, against the
// library as the tests see it (not installed): UBSan with messages and stack
// traces (zig's runtime), so every program linking it is .full too.
// ---- test-fibers: the same runner and stress programs run a second time
// with their test goroutines as fibers (GOCHAN_TEST_GO=fiber, issue 18
// "Tests"; tests/testutil.h), and the fuzz differential against Go with its
// programs on a fiber (fuzz/diff.sh).
fn testStep(p: Project) struct { threads: *Build.Step, fibers: *Build.Step } {
    const b = p.ctx.b;
    const step = b.step("test", "Criterion suites (tests/*.c, one runner) and stress programs (tests/stress/*.c)");
    const fibers = b.step("test-fibers", "The Criterion runner and the stress programs of `test` again with their goroutines as fibers (GOCHAN_TEST_GO=fiber), and fuzz/diff.sh (against Go) on a fiber");
    const test_lib = addLib(p.ctx, .{ .name = "gochan-test", .linkage = .static, .sanitize_c = .full });
    addTests(p.ctx, step, test_lib, p.tests, p.stress, .{
        .jobs = p.jobs,
        .runner_timeout = runner_timeout,
        .program_timeout = program_timeout,
        .fiber_step = fibers,
    });
    addBugsCheck(p.ctx, step, test_lib, "");
    if (fileExists(b, "fuzz/diff.sh")) {
        const run = runWithTimeout(b, program_timeout, "fiber fuzz/diff.sh");
        // Its own scratch directory: another build's diff.sh may be running.
        run.addArgs(&.{ "sh", "-c", "d=$(mktemp -d) || exit 1; FUZZ_OUT=$d sh fuzz/diff.sh; rc=$?; rm -rf \"$d\"; exit $rc" });
        run.setCwd(b.path("."));
        run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
        fibers.dependOn(&run.step);
    }
    return .{ .threads = step, .fibers = fibers };
}

// ---- the bug catalogue (tests/bugs/, issue 19): one program of all the
// bugs, built against @lib and run once in its checking mode (`bugs check`:
// each bug's forced schedule must manifest, its fix must hold), so that the
// catalogue's oracles cannot rot.  Well under a second.
fn addBugsCheck(ctx: Ctx, step: *Build.Step, lib: *Build.Step.Compile, name_prefix: []const u8) void {
    const b = ctx.b;
    const srcs = listFiles(b, "tests/bugs", "", ".c");
    if (srcs.len == 0) return;
    const mod = addExeModule(ctx, srcs, .{ .sanitize_c = .full });
    mod.linkLibrary(lib);
    const exe = b.addExecutable(.{ .name = b.fmt("{s}bugs", .{name_prefix}), .root_module = mod });
    step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } }).step);
    const run = runWithTimeout(b, program_timeout, b.fmt("run {s}bugs check", .{name_prefix}));
    run.addArtifactArg(exe);
    run.addArg("check");
    step.dependOn(&run.step);
    // The same check in a bubble (gochan/bubble.h): one seeded worker.
    const brun = runWithTimeout(b, program_timeout, b.fmt("run {s}bugs check --bubble", .{name_prefix}));
    brun.addArtifactArg(exe);
    brun.addArgs(&.{ "check", "--bubble" });
    step.dependOn(&brun.step);
}

// ---- bugs-table: the "plain threads with GOCHAN_CHAOS" columns of issue 19's
// table: every bug of tests/bugs/ run unforced without chaos and under 20
// seeds (`bugs table`; BUGS_ARGS adds options, e.g. "-n 5000 -t 5").
fn bugsTableStep(p: Project) void {
    const b = p.ctx.b;
    const step = b.step("bugs-table", "The bug catalogue (tests/bugs/) on plain threads, with and without GOCHAN_CHAOS: failures per 1,000 runs and per second (bugs table)");
    const srcs = listFiles(b, "tests/bugs", "", ".c");
    if (srcs.len == 0) return;
    var bctx = p.ctx;
    bctx.optimize = .ReleaseFast;
    const lib = addLib(bctx, .{ .name = "gochan-bugs", .linkage = .static, .sanitize_c = .off });
    const mod = addExeModule(bctx, srcs, .{ .sanitize_c = .off });
    mod.linkLibrary(lib);
    const exe = b.addExecutable(.{ .name = "bugs", .root_module = mod });
    step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } }).step);
    const run = b.addSystemCommand(&.{ "sh", "-c", "uptime; exec \"$0\" table $BUGS_ARGS" });
    run.addArtifactArg(exe);
    run.setName("bugs table");
    run.has_side_effects = true;
    run.stdio = .inherit;
    step.dependOn(&run.step);
}

// ---- test-arm64: the same runner and stress programs cross-built for
// aarch64 Linux and run under qemu-aarch64 (scripts/qemu-run.sh).
// Debian's arm64 packages, from `scripts/setup.sh --test`: liburcu through
// multiarch (/usr/lib/aarch64-linux-gnu), Criterion unpacked into
// -Darm64-sysroot (it cannot be installed next to the amd64 one).
// test-arm64-fibers: the same programs with their goroutines as fibers
// (GOCHAN_TEST_GO=fiber), under qemu too (the aarch64 switch).
fn arm64TestStep(p: Project) struct { threads: *Build.Step, fibers: *Build.Step } {
    const b = p.ctx.b;
    const step = b.step("test-arm64", "Criterion runner + stress programs built for aarch64-linux-gnu, run under qemu-aarch64-static");
    const fibers = b.step("test-arm64-fibers", "The programs of test-arm64 again with their goroutines as fibers (GOCHAN_TEST_GO=fiber), under qemu-aarch64-static");
    // glibc 2.36: Debian 12's, which the arm64 libraries were linked against.
    const arm64 = b.resolveTargetQuery(.{
        .cpu_arch = .aarch64,
        .os_tag = .linux,
        .abi = .gnu,
        .glibc_version = .{ .major = 2, .minor = 36, .patch = 0 },
    });
    var actx = p.ctx;
    actx.target = arm64;
    actx.sysroot = p.arm64_sysroot;
    const arm64_lib = addLib(actx, .{ .name = "gochan-test-arm64", .linkage = .static, .sanitize_c = .full });
    addTests(actx, step, arm64_lib, p.tests, p.stress, .{
        .jobs = p.jobs,
        .runner_timeout = qemu_runner_timeout,
        .program_timeout = qemu_program_timeout,
        .emulator = "scripts/qemu-run.sh",
        .name_prefix = "arm64-",
        // Emulated, the suites run 5-20x slower than the native runs their
        // .timeout values were sized for: this scales them (by
        // GOCHAN_TEST_TIMEOUT_SCALE, which scripts/qemu-run.sh sets).
        .runner_srcs = &.{"scripts/criterion_timeout_scale.c"},
        .fiber_step = fibers,
    });
    return .{ .threads = step, .fibers = fibers };
}

// ---- debug-test: the Criterion runner and every stress program once
// against the library built with -DGOCHAN_DEBUG: the invariants the code
// states are checked (wait/debug.h: assertions, "caller holds" and the
// lock ranks of wait/lockrank.h, parker states, ring stamps).
fn debugTestStep(p: Project) *Build.Step {
    const step = p.ctx.b.step("debug-test", "Criterion suites and stress programs against libgochan built with -DGOCHAN_DEBUG (checked invariants and lock ranks)");
    const debug_flags = [_][]const u8{"-DGOCHAN_DEBUG"};
    const debug_lib = addLib(p.ctx, .{ .name = "gochan-debug", .linkage = .static, .sanitize_c = .full, .extra_flags = &debug_flags });
    addTests(p.ctx, step, debug_lib, p.tests, p.stress, .{
        .jobs = p.jobs,
        .runner_timeout = runner_timeout,
        .program_timeout = program_timeout,
        .name_prefix = "debug-",
        .extra_flags = &debug_flags,
    });
    addBugsCheck(p.ctx, step, debug_lib, "debug-");
    return step;
}

// ---- tsan: the library and every stress program under ThreadSanitizer (zig cc)
// ---- tsan-fibers: the same programs with their goroutines as fibers
// (GOCHAN_TEST_GO=fiber; the library tells TSan of every switch).
fn tsanStep(p: Project) struct { tsan: *Build.Step, fibers: *Build.Step } {
    const b = p.ctx.b;
    const step = b.step("tsan", "Stress programs (tests/stress/*.c) and the bug catalogue check (tests/bugs/) under ThreadSanitizer");
    const fibers = b.step("tsan-fibers", "The stress programs of `tsan` again with their goroutines as fibers (GOCHAN_TEST_GO=fiber)");
    if (p.stress.len == 0) return .{ .tsan = step, .fibers = fibers };
    const tsan_lib = addLib(p.ctx, .{ .name = "gochan-tsan", .linkage = .static, .tsan = true });
    for (p.stress) |src| {
        const mod = addExeModule(p.ctx, &.{src}, .{ .tsan = true });
        mod.linkLibrary(tsan_lib);
        const exe = b.addExecutable(.{ .name = b.fmt("tsan-{s}", .{stem(src)}), .root_module = mod });
        for ([_]*Build.Step{ step, fibers }, [_][]const u8{ "", "fiber " }) |to, mode| {
            const run = runWithTimeout(b, program_timeout, b.fmt("tsan {s}{s}", .{ mode, stem(src) }));
            run.addArtifactArg(exe);
            // A reported race or deadlock ends the program with a failure.
            run.setEnvironmentVariable("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
            if (mode.len > 0) run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
            to.dependOn(&run.step);
        }
    }
    // The bug catalogue's check (tests/bugs/), 20 times each: its shim and
    // oracles are threaded code too.
    const bug_srcs = listFiles(b, "tests/bugs", "", ".c");
    if (bug_srcs.len > 0) {
        const mod = addExeModule(p.ctx, bug_srcs, .{ .tsan = true });
        mod.linkLibrary(tsan_lib);
        const exe = b.addExecutable(.{ .name = "tsan-bugs", .root_module = mod });
        const run = runWithTimeout(b, program_timeout, "tsan bugs check");
        run.addArtifactArg(exe);
        run.addArgs(&.{ "check", "-n", "20" });
        run.setEnvironmentVariable("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
        step.dependOn(&run.step);
        const brun = runWithTimeout(b, program_timeout, "tsan bugs check --bubble");
        brun.addArtifactArg(exe);
        brun.addArgs(&.{ "check", "-n", "20", "--bubble" });
        brun.setEnvironmentVariable("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
        step.dependOn(&brun.step);
    }
    return .{ .tsan = step, .fibers = fibers };
}

// ---- asan: clang-14 -fsanitize=address,undefined over the lib, the runner, the stress programs
// ---- fuzz-replay: each harness + fuzz/replay_main.c (ASan+UBSan) over its corpus and regressions
// Both link the same ASan objects of the library.
// ---- asan-fibers: the same runner and stress programs with their goroutines
// as fibers (GOCHAN_TEST_GO=fiber; the library tells ASan of every switch).
fn asanSteps(p: Project) struct { asan: *Build.Step, replay: *Build.Step, fibers: *Build.Step } {
    const b = p.ctx.b;
    const asan_step = b.step("asan", "Criterion runner and stress programs under ASan+UBSan (clang-14)");
    const fibers = b.step("asan-fibers", "The runner and stress programs of `asan` again with their goroutines as fibers (GOCHAN_TEST_GO=fiber)");
    const asan_lib_objs = asanCompileAll(b, p.ctx.lib_srcs, false);
    if (p.tests.len > 0) {
        // scripts/asan_criterion.c keeps LeakSanitizer to the test workers.
        const objs = concat(b, asan_lib_objs, asanCompileAll(b, std.mem.concat(b.allocator, []const u8, &.{ p.tests, &.{"scripts/asan_criterion.c"} }) catch @panic("OOM"), true));
        const exe = asanLink(b, "gochan-tests-asan", objs, true);
        for ([_]*Build.Step{ asan_step, fibers }, [_][]const u8{ "", "fiber " }) |to, mode| {
            const run = runAsan(b, runner_timeout, b.fmt("asan {s}gochan-tests", .{mode}), exe);
            run.addArg(b.fmt("--jobs={s}", .{p.jobs}));
            if (mode.len > 0) run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
            to.dependOn(&run.step);
        }
    }
    for (p.stress) |src| {
        const objs = concat(b, asan_lib_objs, asanCompileAll(b, &.{src}, false));
        const exe = asanLink(b, b.fmt("asan-{s}", .{stem(src)}), objs, false);
        for ([_]*Build.Step{ asan_step, fibers }, [_][]const u8{ "", "fiber " }) |to, mode| {
            const run = runAsan(b, program_timeout, b.fmt("asan {s}{s}", .{ mode, stem(src) }), exe);
            if (mode.len > 0) run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
            to.dependOn(&run.step);
        }
    }

    const fuzz_step = b.step("fuzz-replay", "Replay fuzz/corpus/<name> and fuzz/regressions/<name> through each fuzz/fuzz_<name>.c (ASan+UBSan)");
    if (p.fuzz.len > 0 and fileExists(b, "fuzz/replay_main.c")) {
        const main_objs = concat(b, asan_lib_objs, asanCompileAll(b, &.{"fuzz/replay_main.c"}, false));
        for (p.fuzz) |src| {
            const name = stem(src)["fuzz_".len..];
            const objs = concat(b, main_objs, asanCompileAll(b, fuzzSrcs(b, src, name), false));
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
    return .{ .asan = asan_step, .replay = fuzz_step, .fibers = fibers };
}

/// A harness's sources: fuzz/fuzz_<name>.c, and for fuzz_bubble (the
/// scheduling fuzzer, issue 19) the bug catalogue without its runner's main
/// (fuzz/run.sh's extra_srcs says the same).
fn fuzzSrcs(b: *Build, src: []const u8, name: []const u8) []const []const u8 {
    if (!std.mem.eql(u8, name, "bubble")) return b.allocator.dupe([]const u8, &.{src}) catch @panic("OOM");
    var list: std.ArrayList([]const u8) = .empty;
    list.append(b.allocator, src) catch @panic("OOM");
    for (listFiles(b, "tests/bugs", "", ".c")) |bug| {
        if (!std.mem.eql(u8, bug, "tests/bugs/run.c")) list.append(b.allocator, bug) catch @panic("OOM");
    }
    return list.items;
}

// ---- gcc-check: gcc 12 -O2 -Wall -Wextra -Werror over every C file of the
// project (search/*.c are added by build()), and each public header compiled
// on its own (self-contained).
fn gccCheckStep(p: Project) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("gcc-check", "Compile every C source and public header with gcc -Wall -Wextra -Werror");
    const groups = [_][]const []const u8{
        p.ctx.lib_srcs,                            p.tests,
        p.stress,                                  p.fuzz,
        listFiles(b, "fuzz", "replay_main", ".c"), p.bench,
        listFiles(b, "tests/bugs", "", ".c"),
    };
    for (groups) |g| for (g) |src| step.dependOn(&gccCompileCheck(b, src, &.{}, &.{}).step);
    // The examples are user code: the strict warnings users turn on.
    for (p.examples) |src| step.dependOn(&gccCompileCheck(b, src, &user_strict_flags, &.{}).step);
    for (p.headers) |hdr| step.dependOn(&headerCheck(b, "gcc", &c_strict_flags, "c", hdr).step);
    return step;
}

// ---- cxx-check: the public API as C++17 users see it.  Each public
// header alone, then every example compiled as C++, linked with
// libgochan.a and run (its output checked as in `examples`), by g++ and
// by clang++, both -Wall -Wextra -Werror.
fn cxxCheckStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("cxx-check", "Each public header (also -Wold-style-cast -Wshadow -Wcast-qual), every example (-Wshadow -Wcast-qual) and tests/cxx_macros.cpp as C++17 (g++ and clang++ -Wall -Wextra -Werror); all are run");
    for ([_][]const u8{ "g++", "clang++-14" }) |cxx| {
        // Each header, then the umbrella header as users include it.
        for (p.headers) |hdr| step.dependOn(&headerCheck(b, cxx, &cxx_strict_flags, "c++", hdr).step);
        step.dependOn(&headerCheck(b, cxx, &cxx_strict_flags, "c++", umbrella_header).step);
        for (p.examples) |src| {
            const run = pkgConfigCommand(b, &.{cxx}, "--libs liburcu-cds");
            run.setName(b.fmt("{s} {s}", .{ cxx, src }));
            run.addArgs(&cxx_flags);
            run.addArgs(&user_strict_flags);
            run.addArg("-O2");
            addIncludeArgs(b, run, &.{public_include});
            run.addArgs(&.{ "-MD", "-x", "c++" });
            run.addFileArg(b.path(src));
            run.addArgs(&.{ "-x", "none" });
            run.addArtifactArg(inst.static_lib);
            run.addArg("-o");
            const exe = run.addOutputFileArg(b.fmt("{s}-cxx", .{stem(src)}));
            _ = run.addPrefixedDepFileOutputArg("-MF", "exe.d");
            if (isBuildOnlyExample(src)) {
                step.dependOn(&run.step);
            } else {
                step.dependOn(&runExample(b, b.fmt("{s} {s}", .{ cxx, stem(src) }), stem(src), exe).step);
            }
        }
        if (fileExists(b, "tests/cxx_macros.cpp")) {
            // Every public macro in C++ under the strict flags, then run.
            const run = pkgConfigCommand(b, &.{cxx}, "--libs liburcu-cds");
            run.setName(b.fmt("{s} tests/cxx_macros.cpp", .{cxx}));
            run.addArgs(&cxx_strict_flags);
            run.addArg("-O2");
            addIncludeArgs(b, run, &.{public_include});
            run.addArg("-MD");
            run.addFileArg(b.path("tests/cxx_macros.cpp"));
            run.addArtifactArg(inst.static_lib);
            run.addArg("-o");
            const exe = run.addOutputFileArg(b.fmt("cxx_macros-{s}", .{cxx}));
            _ = run.addPrefixedDepFileOutputArg("-MF", "exe.d");
            const check = runWithTimeout(b, program_timeout, b.fmt("{s} cxx_macros", .{cxx}));
            check.addFileArg(exe);
            step.dependOn(&check.step);
        }
    }
    return step;
}

// ---- examples: every examples/*.c built by zig cc (C11) into zig-out/examples/ and run,
// its output checked by scripts/check-example.sh (expected output in examples/expected/).
fn examplesStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("examples", "Build every examples/*.c and run each one, its output checked (scripts/check-example.sh)");
    for (p.examples) |src| {
        const mod = addExeModule(p.ctx, &.{src}, .{ .extra_flags = &user_strict_flags });
        mod.linkLibrary(inst.static_lib);
        const exe = b.addExecutable(.{ .name = stem(src), .root_module = mod });
        step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "examples" } } }).step);
        if (isBuildOnlyExample(src)) continue;
        step.dependOn(&runExample(b, b.fmt("example {s}", .{stem(src)}), stem(src), exe.getEmittedBin()).step);
    }
    return step;
}

// ---- zig-consumer: examples/zig-consumer is a separate Zig project that
// depends on this one through build.zig.zon (a relative .path), exactly
// as a user's project does after `zig fetch --save`; build and run it.
fn zigConsumerStep(p: Project) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("zig-consumer", "Build and run examples/zig-consumer (a Zig project using gochan through b.dependency)");
    if (!fileExists(b, "examples/zig-consumer/build.zig")) return step;
    const run = runWithTimeout(b, program_timeout, "zig-consumer");
    run.addArgs(&.{ b.graph.zig_exe, "build", "run", "--build-file" });
    run.addFileArg(b.path("examples/zig-consumer/build.zig"));
    run.addArg("--prefix");
    _ = run.addOutputDirectoryArg("zig-out");
    run.addArgs(&.{ "--cache-dir", b.cache_root.join(b.allocator, &.{"zig-consumer"}) catch @panic("OOM") });
    if (b.graph.global_cache_root.path) |path| run.addArgs(&.{ "--global-cache-dir", path });
    step.dependOn(&run.step);
    return step;
}

// ---- version-check: one version number everywhere.
fn versionCheckStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("version-check", "build.zig.zon's version == version.h == gochan_version() == gochan.pc == the SONAME");
    if (!fileExists(b, "scripts/check-version.sh")) return step;
    const mod = addExeModule(p.ctx, &.{"scripts/print_version.c"}, .{});
    mod.linkLibrary(inst.shared_lib);
    const exe = b.addExecutable(.{ .name = "print-version", .root_module = mod });
    const run = runWithTimeout(b, program_timeout, "version-check");
    run.addArg("bash");
    run.addFileArg(b.path("scripts/check-version.sh"));
    run.addArg(zon.version);
    run.addFileArg(b.path(public_include ++ "/gochan/version.h"));
    run.addFileArg(inst.pc);
    run.addArtifactArg(inst.shared_lib);
    run.addArtifactArg(exe);
    step.dependOn(&run.step);
    return step;
}

// ---- symbols-check: libgochan.so exports exactly the functions declared
// in the public headers, each versioned GOCHAN_0 and listed in
// version/libgochan.map (scripts/check-symbols.py reads `nm -D`).
fn symbolsCheckStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("symbols-check", "nm -D of libgochan.so == the functions of the public headers == version/libgochan.map, all GOCHAN_0");
    const run = runWithTimeout(b, program_timeout, "symbols-check");
    run.addArg("python3");
    run.addFileArg(b.path("scripts/check-symbols.py"));
    run.addArtifactArg(inst.shared_lib);
    run.addDirectoryArg(b.path(public_include));
    run.addFileArg(b.path("version/libgochan.map"));
    step.dependOn(&run.step);
    return step;
}

// ---- install-check: install as a distribution does (DESTDIR staging, a
// --prefix, a multiarch --prefix-lib-dir) by running this build again,
// then build and run examples/consumer against the staged tree through
// pkg-config (shared, static libgochan.a, -static) and CMake's
// find_package (shared and static): scripts/check-install.sh.
fn installCheckStep(p: Project) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("install-check", "Stage an install (DESTDIR, --prefix, --prefix-lib-dir) and build examples/consumer against it via pkg-config (shared, static) and CMake find_package");
    if (!fileExists(b, "scripts/check-install.sh")) return step;
    const run = runWithTimeout(b, program_timeout, "install-check");
    run.addArgs(&.{ "bash", "scripts/check-install.sh", b.graph.zig_exe });
    run.addFileArg(b.path("build.zig"));
    run.addArg(b.cache_root.join(b.allocator, &.{"install-check"}) catch @panic("OOM"));
    if (b.graph.global_cache_root.path) |path| run.addArg(path);
    run.setCwd(b.path("."));
    step.dependOn(&run.step);
    return step;
}

// ---- libuv-example: examples/libuv/uv_chanfd.c (a channel in a libuv
// loop through gopoll_chanfd) built by gcc against libgochan.a and
// libuv (pkg-config, when the step runs), run, its output compared with
// examples/libuv/expected.txt.
fn libuvExampleStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("libuv-example", "Build examples/libuv/uv_chanfd.c against libuv (a channel in a uv_poll_t through gopoll_chanfd) and check its output");
    if (!fileExists(b, "examples/libuv/uv_chanfd.c")) return step;
    const cc = pkgConfigCommand(b, &.{"gcc"}, "--cflags --libs libuv");
    cc.setName("gcc examples/libuv/uv_chanfd.c");
    cc.addArgs(&c_strict_flags);
    cc.addArg("-O2");
    addIncludeArgs(b, cc, &.{public_include});
    cc.addFileArg(b.path("examples/libuv/uv_chanfd.c"));
    cc.addArtifactArg(inst.static_lib);
    cc.addArg("-o");
    const exe = cc.addOutputFileArg("uv_chanfd");
    const run = runWithTimeout(b, program_timeout, "libuv-example");
    run.addArgs(&.{ "sh", "-c", "out=$(\"$1\") && printf '%s\\n' \"$out\" | diff -u \"$2\" - && echo \"libuv-example: output as expected\"", "sh" });
    run.addFileArg(exe);
    run.addFileArg(b.path("examples/libuv/expected.txt"));
    step.dependOn(&run.step);
    return step;
}

// ---- man-check: the generated pages format without a groff warning.
fn manCheckStep(p: Project, inst: Installed) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("man-check", "The reference manual (scripts/gen-man.py) formats cleanly with groff -ww; every public function has its page");
    const run = runWithTimeout(b, program_timeout, "man-check");
    run.addArg("bash");
    run.addFileArg(b.path("scripts/check-man.sh"));
    run.addDirectoryArg(inst.man_dir);
    step.dependOn(&run.step);
    return step;
}

// ---- tsan-consumer: a user's -fsanitize=thread program (gcc) against the
// library built by scripts/build-tsan-lib.sh with the same compiler: no
// report (scripts/check-tsan-consumer.sh).
fn tsanConsumerStep(p: Project) *Build.Step {
    return scriptStep(p.ctx.b, "tsan-consumer", "Build libgochan-tsan.a with gcc -fsanitize=thread (scripts/build-tsan-lib.sh) and run examples/consumer against it under TSan: no report", &.{ "bash", "scripts/check-tsan-consumer.sh" }, .if_present);
}

// ---- layers-check: the module graph from the #includes
// (scripts/include-graph.py): no cycle, no module including another's
// private header, wait/ including nothing above it.
fn layersCheckStep(p: Project) *Build.Step {
    return scriptStep(p.ctx.b, "layers-check", "The include graph of the library's modules (scripts/include-graph.py): no cycle, no private header of another module, wait/ on nothing above it", &.{ "python3", "scripts/include-graph.py", "--check" }, .required);
}

// ---- docs-check: every file path and C identifier that docs/design.md and
// docs/design-bubble.md cite in backticks exists in the tree (scripts/check-doc-refs.py).
fn docsCheckStep(p: Project) *Build.Step {
    return scriptStep(p.ctx.b, "docs-check", "Every path and C identifier docs/design.md and docs/design-bubble.md cite in backticks exists in the tree (scripts/check-doc-refs.py)", &.{ "python3", "scripts/check-doc-refs.py", "docs/design.md", "docs/design-bubble.md", "docs/testing-concurrent-code.md" }, .required);
}

// ---- gdb-fibers: scripts/gdb/gochan-fibers.py (`info fibers`, `fiber bt`)
// run for real under gdb -batch over two fiber examples stopped at a
// breakpoint (scripts/gdb/check-gdb-fibers.sh checks the listing).
fn gdbFibersStep(p: Project) *Build.Step {
    return scriptStep(p.ctx.b, "gdb-fibers", "scripts/gdb/gochan-fibers.py under gdb -batch: examples/fiber_fanout and fiber_sieve stopped at a breakpoint, `info fibers` and `fiber bt` checked (scripts/gdb/check-gdb-fibers.sh)", &.{ "bash", "scripts/gdb/check-gdb-fibers.sh" }, .if_present);
}

// ---- fuzz-short: a bounded libFuzzer run of every harness (CI's share of fuzzing).
// FUZZ_SECONDS (default 20) per harness; fuzz/run.sh fails if any harness finds a crash.
fn fuzzShortStep(p: Project) *Build.Step {
    const b = p.ctx.b;
    const step = b.step("fuzz-short", "libFuzzer run of every fuzz/fuzz_<name>.c, FUZZ_SECONDS (default 20) each");
    if (p.fuzz.len == 0 or !fileExists(b, "fuzz/run.sh")) return step;
    const secs = b.graph.env_map.get("FUZZ_SECONDS") orelse "20";
    const run = b.addSystemCommand(&.{ "sh", "fuzz/run.sh", secs });
    run.setName("fuzz-short");
    run.has_side_effects = true;
    step.dependOn(&run.step);
    return step;
}

// ---- bench-bin / bench
fn benchSteps(p: Project) void {
    const b = p.ctx.b;
    const bench_bin_step = b.step("bench-bin", "Build every bench/*.c (ReleaseFast) into zig-out/bench/");
    var bctx = p.ctx;
    bctx.optimize = .ReleaseFast;
    const bench_lib = addLib(bctx, .{ .name = "gochan-bench", .linkage = .static, .sanitize_c = .off });
    for (p.bench) |src| {
        const mod = addExeModule(bctx, &.{src}, .{ .sanitize_c = .off });
        mod.linkLibrary(bench_lib);
        const exe = b.addExecutable(.{ .name = stem(src), .root_module = mod });
        bench_bin_step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } }).step);
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

/// A top-level step that runs one of the repository's scripts, argv[1],
/// from the repository's root (through runWithTimeout, named as the step).
/// .if_present: a tree without the script has the step, doing nothing.
fn scriptStep(b: *Build, name: []const u8, description: []const u8, argv: []const []const u8, script: enum { required, if_present }) *Build.Step {
    const step = b.step(name, description);
    if (script == .if_present and !fileExists(b, argv[1])) return step;
    const run = runWithTimeout(b, program_timeout, name);
    run.addArgs(argv);
    run.setCwd(b.path("."));
    step.dependOn(&run.step);
    return step;
}

/// gcc-check's compile of one C source: gcc -O2 with the project's flags
/// and @extra_flags, the project's include dirs and @extra_includes, to an
/// object nobody links.  tests/*.c (not tests/stress/) get Criterion's
/// flags from pkg-config when the step runs.
fn gccCompileCheck(b: *Build, src: []const u8, extra_flags: []const []const u8, extra_includes: []const LazyPath) *Build.Step.Run {
    const criterion = std.mem.startsWith(u8, src, "tests/") and !std.mem.startsWith(u8, src, "tests/stress/");
    const run = pkgConfigCommand(b, &.{"gcc"}, if (criterion) "--cflags criterion" else null);
    run.setName(b.fmt("gcc {s}", .{src}));
    run.addArgs(&c_flags);
    run.addArgs(extra_flags);
    run.addArg("-O2");
    addIncludeArgs(b, run, &include_dirs);
    for (extra_includes) |dir| run.addPrefixedDirectoryArg("-I", dir);
    run.addArgs(&.{ "-MD", "-c" });
    run.addFileArg(b.path(src));
    run.addArg("-o");
    _ = run.addOutputFileArg("check.o");
    _ = run.addPrefixedDepFileOutputArg("-MF", "check.d");
    return run;
}

/// The header self-containment check: public header @hdr compiled alone
/// (-fsyntax-only, as language @lang) by @compiler with @flags and only the
/// public include dir, so that it must include everything it uses itself.
fn headerCheck(b: *Build, compiler: []const u8, flags: []const []const u8, lang: []const u8, hdr: []const u8) *Build.Step.Run {
    const run = b.addSystemCommand(&.{compiler});
    run.setName(b.fmt("{s} {s}", .{ compiler, hdr }));
    run.addArgs(flags);
    addIncludeArgs(b, run, &.{public_include});
    run.addArgs(&.{ "-MD", "-fsyntax-only", "-x", lang });
    run.addFileArg(b.path(hdr));
    _ = run.addPrefixedDepFileOutputArg("-MF", "check.d");
    return run;
}

/// -I<dir> for each of @dirs (relative to the build root) on a command
/// line, as a path the step resolves (the build root's, not a relative
/// "-Iinclude" that holds only when zig build runs from the root).
fn addIncludeArgs(b: *Build, run: *Build.Step.Run, dirs: []const []const u8) void {
    for (dirs) |dir| run.addPrefixedDirectoryArg("-I", b.path(dir));
}

/// @dirs (relative to the build root) as LazyPaths.
fn paths(b: *Build, dirs: []const []const u8) []const LazyPath {
    const out = b.allocator.alloc(LazyPath, dirs.len) catch @panic("OOM");
    for (dirs, out) |dir, *path| path.* = b.path(dir);
    return out;
}

/// The uninstall step: every file and directory the install step creates
/// (libraries, gochan.pc, the CMake files, the headers, the manual), and
/// nothing else: a man3 page is removed only if it is one of ours (gochan.3,
/// gochan-<module>.3, or a `.so man3/gochan-...` link).  Missing files are
/// fine (uninstalling twice is not an error).
fn uninstall(step: *Build.Step, options: Build.Step.MakeOptions) anyerror!void {
    _ = options;
    const b = step.owner;
    const cwd = std.fs.cwd();
    const files = [_][]const u8{
        b.pathJoin(&.{ b.lib_dir, "libgochan.a" }),
        b.pathJoin(&.{ b.lib_dir, "libgochan.so" }),
        b.pathJoin(&.{ b.lib_dir, b.fmt("libgochan.so.{d}", .{version.major}) }),
        b.pathJoin(&.{ b.lib_dir, b.fmt("libgochan.so.{s}", .{zon.version}) }),
        b.pathJoin(&.{ b.lib_dir, "pkgconfig", "gochan.pc" }),
        b.pathJoin(&.{ b.h_dir, "gochan.h" }),
    };
    for (files) |f| cwd.deleteFile(f) catch |err| switch (err) {
        error.FileNotFound => {},
        else => return err,
    };
    const trees = [_][]const u8{
        b.pathJoin(&.{ b.lib_dir, "cmake", "gochan" }),
        b.pathJoin(&.{ b.h_dir, "gochan" }),
        b.pathJoin(&.{ b.install_path, "share", "doc", "gochan" }),
    };
    for (trees) |t| try cwd.deleteTree(t);
    const man3_path = b.pathJoin(&.{ b.install_path, "share", "man", "man3" });
    var man3 = cwd.openDir(man3_path, .{ .iterate = true }) catch |err| switch (err) {
        error.FileNotFound => return,
        else => return err,
    };
    defer man3.close();
    var ours: std.ArrayList([]const u8) = .empty;
    var it = man3.iterate();
    while (try it.next()) |entry| {
        if (entry.kind != .file or !std.mem.endsWith(u8, entry.name, ".3")) continue;
        var buf: [64]u8 = undefined;
        const head = man3.readFile(entry.name, &buf) catch continue;
        if (std.mem.eql(u8, entry.name, "gochan.3") or std.mem.startsWith(u8, entry.name, "gochan-") or
            std.mem.startsWith(u8, head, ".so man3/gochan-"))
            try ours.append(b.allocator, b.dupe(entry.name));
    }
    for (ours.items) |name| try man3.deleteFile(name);
}

/// An install directory (b.lib_dir, b.h_dir) as the installed files must
/// name it: "${prefix}/..." when it is under the prefix, else the absolute
/// path, without DESTDIR either way (DESTDIR only stages the files).
fn installedDir(b: *Build, dir: []const u8) []const u8 {
    if (std.mem.startsWith(u8, dir, b.install_path) and dir.len > b.install_path.len and dir[b.install_path.len] == '/')
        return b.fmt("${{prefix}}{s}", .{dir[b.install_path.len..]});
    if (b.dest_dir) |dest| if (std.mem.startsWith(u8, dir, dest)) return dir[dest.len..];
    return dir;
}

/// <libdir>/cmake/gochan/gochanConfig.cmake: the imported targets
/// gochan::gochan (the shared library where installed, else the static one;
/// GOCHAN_STATIC=ON picks the static one), gochan::gochan_static and
/// gochan::gochan_shared.  Arguments: version, include dir relative to
/// libdir, SONAME major, version.
const cmake_config =
    \\# gochanConfig.cmake - find_package(gochan) for gochan {s}.
    \\# Targets: gochan::gochan (libgochan.so, or libgochan.a when GOCHAN_STATIC
    \\# is ON or no shared library is installed), gochan::gochan_static,
    \\# gochan::gochan_shared.  Paths are relative to this file: the installed
    \\# tree may be moved or staged.
    \\include(CMakeFindDependencyMacro)
    \\set(THREADS_PREFER_PTHREAD_FLAG ON)
    \\find_dependency(Threads)
    \\get_filename_component(_gochan_libdir "${{CMAKE_CURRENT_LIST_DIR}}/../.." ABSOLUTE)
    \\get_filename_component(_gochan_incdir "${{_gochan_libdir}}/{s}" ABSOLUTE)
    \\if(NOT TARGET gochan::gochan_static)
    \\  add_library(gochan::gochan_static STATIC IMPORTED)
    \\  set_target_properties(gochan::gochan_static PROPERTIES
    \\    IMPORTED_LOCATION "${{_gochan_libdir}}/libgochan.a"
    \\    IMPORTED_LINK_INTERFACE_LANGUAGES C
    \\    INTERFACE_INCLUDE_DIRECTORIES "${{_gochan_incdir}}"
    \\    INTERFACE_LINK_LIBRARIES Threads::Threads)
    \\endif()
    \\if(NOT TARGET gochan::gochan_shared AND EXISTS "${{_gochan_libdir}}/libgochan.so.{d}")
    \\  add_library(gochan::gochan_shared SHARED IMPORTED)
    \\  set_target_properties(gochan::gochan_shared PROPERTIES
    \\    IMPORTED_LOCATION "${{_gochan_libdir}}/libgochan.so.{s}"
    \\    IMPORTED_SONAME "libgochan.so.{d}"
    \\    INTERFACE_INCLUDE_DIRECTORIES "${{_gochan_incdir}}"
    \\    INTERFACE_LINK_LIBRARIES Threads::Threads)
    \\endif()
    \\if(NOT TARGET gochan::gochan)
    \\  add_library(gochan::gochan INTERFACE IMPORTED)
    \\  if(TARGET gochan::gochan_shared AND NOT GOCHAN_STATIC)
    \\    set_target_properties(gochan::gochan PROPERTIES INTERFACE_LINK_LIBRARIES gochan::gochan_shared)
    \\  else()
    \\    set_target_properties(gochan::gochan PROPERTIES INTERFACE_LINK_LIBRARIES gochan::gochan_static)
    \\  endif()
    \\endif()
    \\unset(_gochan_libdir)
    \\unset(_gochan_incdir)
    \\
;

/// gochanConfigVersion.cmake: semantic versioning as README.md's ABI policy
/// states it: a request is met by the same major version at or above it,
/// and, while the major version is 0, only by the same minor version.
const cmake_config_version =
    \\set(PACKAGE_VERSION "{s}")
    \\set(PACKAGE_VERSION_COMPATIBLE FALSE)
    \\set(PACKAGE_VERSION_EXACT FALSE)
    \\if(PACKAGE_FIND_VERSION)
    \\  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _gochan_v "${{PACKAGE_VERSION}}")
    \\  set(_gochan_major "${{CMAKE_MATCH_1}}")
    \\  set(_gochan_minor "${{CMAKE_MATCH_2}}")
    \\  if(NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION
    \\     AND PACKAGE_FIND_VERSION_MAJOR EQUAL _gochan_major
    \\     AND (NOT _gochan_major EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL _gochan_minor))
    \\    set(PACKAGE_VERSION_COMPATIBLE TRUE)
    \\  endif()
    \\  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    \\    set(PACKAGE_VERSION_EXACT TRUE)
    \\  endif()
    \\else()
    \\  set(PACKAGE_VERSION_COMPATIBLE TRUE)
    \\endif()
    \\
;

const TestOptions = struct {
    jobs: []const u8,
    runner_timeout: []const u8,
    program_timeout: []const u8,
    /// A script that runs the foreign executables (scripts/qemu-run.sh), or null.
    emulator: ?[]const u8 = null,
    name_prefix: []const u8 = "",
    /// More sources for the Criterion runner.
    runner_srcs: []const []const u8 = &.{},
    /// More flags for every test source (debug-test: -DGOCHAN_DEBUG).
    extra_flags: []const []const u8 = &.{},
    /// If set, each program built here is run a second time, by this step,
    /// with its test goroutines as fibers (GOCHAN_TEST_GO=fiber,
    /// tests/testutil.h).
    fiber_step: ?*Build.Step = null,
};

/// The environment variable that runs the test goroutines (tu_spawn,
/// tests/testutil.h) and the fuzz differential as fibers, and its value.
const fiber_mode_env = "GOCHAN_TEST_GO";
const fiber_mode_val = "fiber";

/// The Criterion runner (every tests/*.c) and every stress program, built
/// for ctx.target against @lib, each run by a step @step depends on.
fn addTests(ctx: Ctx, step: *Build.Step, lib: *Build.Step.Compile, test_srcs: []const []const u8, stress_srcs: []const []const u8, o: TestOptions) void {
    const b = ctx.b;
    if (test_srcs.len > 0) {
        const mod = addExeModule(ctx, std.mem.concat(b.allocator, []const u8, &.{ test_srcs, o.runner_srcs }) catch @panic("OOM"), .{ .sanitize_c = .full, .extra_flags = o.extra_flags });
        mod.linkLibrary(lib);
        if (ctx.sysroot) |root| if (multiarchTriple(ctx.target)) |triple| {
            mod.addLibraryPath(.{ .cwd_relative = b.fmt("{s}/usr/lib/{s}", .{ root, triple }) });
            mod.addAfterIncludePath(.{ .cwd_relative = b.fmt("{s}/usr/include", .{root}) });
        };
        linkSystem(b, mod, ctx.target, "criterion", &.{"criterion"});
        const exe = b.addExecutable(.{ .name = b.fmt("{s}gochan-tests", .{o.name_prefix}), .root_module = mod });
        // Criterion finds its tests by reading their ELF sections, which
        // nothing references: the linker must not collect them.
        exe.link_gc_sections = false;
        step.dependOn(&b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } }).step);
        for ([_]?*Build.Step{ step, o.fiber_step }, [_][]const u8{ "", "fiber " }) |to, mode| {
            const s = to orelse continue;
            const run = runWithTimeout(b, o.runner_timeout, b.fmt("run {s}{s}gochan-tests", .{ mode, o.name_prefix }));
            if (o.emulator) |emu| emulate(ctx, run, emu);
            run.addArtifactArg(exe);
            run.addArg(b.fmt("--jobs={s}", .{o.jobs}));
            if (mode.len > 0) run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
            s.dependOn(&run.step);
        }
    }
    for (stress_srcs) |src| {
        const mod = addExeModule(ctx, &.{src}, .{ .sanitize_c = .full, .extra_flags = o.extra_flags });
        mod.linkLibrary(lib);
        const exe = b.addExecutable(.{ .name = b.fmt("{s}stress-{s}", .{ o.name_prefix, stem(src) }), .root_module = mod });
        for ([_]?*Build.Step{ step, o.fiber_step }, [_][]const u8{ "", "fiber " }) |to, mode| {
            const s = to orelse continue;
            const run = runWithTimeout(b, o.program_timeout, b.fmt("run {s}{s}stress {s}", .{ mode, o.name_prefix, stem(src) }));
            if (o.emulator) |emu| emulate(ctx, run, emu);
            run.addArtifactArg(exe);
            if (mode.len > 0) run.setEnvironmentVariable(fiber_mode_env, fiber_mode_val);
            s.dependOn(&run.step);
        }
    }
}

/// Run the foreign program of @run through @emulator, a script taking the
/// directory of the unpacked foreign libraries, then the program and its
/// arguments (scripts/qemu-run.sh: qemu-aarch64-static, also across the
/// re-exec of Criterion's runner).
fn emulate(ctx: Ctx, run: *Build.Step.Run, emulator: []const u8) void {
    const b = ctx.b;
    const triple = multiarchTriple(ctx.target) orelse "";
    run.addArg("bash");
    run.addFileArg(b.path(emulator));
    run.addArg(b.fmt("{s}/usr/lib/{s}", .{ ctx.sysroot orelse "", triple }));
}

const LibOptions = struct {
    name: []const u8,
    linkage: std.builtin.LinkMode,
    tsan: bool = false,
    sanitize_c: ?std.zig.SanitizeC = null,
    /// More flags (debug-test: -DGOCHAN_DEBUG).
    extra_flags: []const []const u8 = &.{},
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
    urcuHeaders(mod, ctx.target);
    mod.addCSourceFiles(.{
        .root = b.path("."),
        .files = ctx.lib_srcs,
        .flags = std.mem.concat(b.allocator, []const u8, &.{ &c_flags, o.extra_flags }) catch @panic("OOM"),
    });
    // Only the shared library records its dependencies (as DT_NEEDED); for a
    // static one zig would copy the .so files into the archive, so the
    // programs that link libgochan.a link urcu themselves (gochan.pc says so).
    if (o.linkage == .dynamic) linkUrcu(b, mod, ctx.target);
    return b.addLibrary(.{
        .linkage = o.linkage,
        .name = o.name,
        .root_module = mod,
        .version = if (o.linkage == .dynamic) version else null,
    });
}

const ExeOptions = struct {
    /// Warnings on top of the project's (examples: user_strict_flags).
    extra_flags: []const []const u8 = &.{},
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
    mod.addCSourceFiles(.{
        .root = b.path("."),
        .files = srcs,
        .flags = std.mem.concat(b.allocator, []const u8, &.{ &c_flags, o.extra_flags }) catch @panic("OOM"),
    });
    linkUrcu(b, mod, ctx.target);
    return mod;
}

fn addIncludes(b: *Build, mod: *Build.Module) void {
    for (include_dirs) |dir| mod.addIncludePath(b.path(dir));
}

/// Debian's multiarch triple for a target of another CPU than the build
/// machine's, whose libraries come from `dpkg --add-architecture` packages
/// (/usr/lib/<triple>, /usr/include/<triple>); null for the build machine's
/// own CPU, whose libraries pkg-config finds.
fn multiarchTriple(target: Build.ResolvedTarget) ?[]const u8 {
    if (target.result.cpu.arch == builtin.cpu.arch) return null;
    return switch (target.result.cpu.arch) {
        .aarch64 => "aarch64-linux-gnu",
        .x86_64 => "x86_64-linux-gnu",
        .arm => "arm-linux-gnueabihf",
        .riscv64 => "riscv64-linux-gnu",
        else => null,
    };
}

/// liburcu and pthreads for a program or the shared library.
fn linkUrcu(b: *Build, mod: *Build.Module, target: Build.ResolvedTarget) void {
    linkSystem(b, mod, target, "liburcu-cds", &.{ "urcu-cds", "urcu-common" });
    mod.linkSystemLibrary("pthread", .{});
}

/// liburcu's headers for a cross target: Debian installs them under
/// /usr/include/<triple>/urcu.  -idirafter, so that the directory's copies
/// of glibc's own headers never shadow the ones zig ships for the target.
fn urcuHeaders(mod: *Build.Module, target: Build.ResolvedTarget) void {
    const triple = multiarchTriple(target) orelse return;
    mod.addAfterIncludePath(.{ .cwd_relative = mod.owner.fmt("/usr/include/{s}", .{triple}) });
}

/// A system library: through pkg-config (@pc_name, resolved lazily by the
/// compile step) for the build machine's CPU; for a cross target, @libs from
/// /usr/lib/<triple> with /usr/include/<triple> and /usr/include after zig's
/// own libc headers (the arch-independent headers, Criterion's among them).
fn linkSystem(b: *Build, mod: *Build.Module, target: Build.ResolvedTarget, pc_name: []const u8, libs: []const []const u8) void {
    const triple = multiarchTriple(target) orelse {
        mod.linkSystemLibrary(pc_name, .{});
        return;
    };
    mod.addLibraryPath(.{ .cwd_relative = b.fmt("/usr/lib/{s}", .{triple}) });
    mod.addAfterIncludePath(.{ .cwd_relative = b.fmt("/usr/include/{s}", .{triple}) });
    mod.addAfterIncludePath(.{ .cwd_relative = "/usr/include" });
    for (libs) |lib| mod.linkSystemLibrary(lib, .{ .use_pkg_config = .no });
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

/// examples/chaos_race.c is only built here: its race shows only under chaos
/// mode, and fuzz/chaos_demo.sh is what runs it.
fn isBuildOnlyExample(src: []const u8) bool {
    return std.mem.eql(u8, stem(src), "chaos_race");
}

/// An example program run by scripts/check-example.sh, which knows what its
/// output must be.
fn runExample(b: *Build, name: []const u8, example: []const u8, exe: LazyPath) *Build.Step.Run {
    const run = runWithTimeout(b, program_timeout, name);
    run.addArg("bash");
    run.addFileArg(b.path("scripts/check-example.sh"));
    run.addArg(example);
    run.addFileArg(exe);
    // The md5 example walks and hashes the repository's sources.
    run.setCwd(b.path("."));
    return run;
}

/// `cmd... <args added by the caller> $(pkg-config FLAGS)`: pkg-config runs
/// when the step runs, not while the build graph is made, so configuring
/// never needs the package (Criterion, for example).  null: no pkg-config.
fn pkgConfigCommand(b: *Build, cmd: []const []const u8, pkg_config_args: ?[]const u8) *Build.Step.Run {
    const args = pkg_config_args orelse return b.addSystemCommand(cmd);
    const run = b.addSystemCommand(&.{
        "sh", "-c",
        b.fmt("flags=$(pkg-config {s}) || exit 1; exec \"$@\" $flags", .{args}),
        "sh",
    });
    run.addArgs(cmd);
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
        const run = pkgConfigCommand(b, &.{"clang-14"}, if (criterion) "--cflags criterion" else null);
        run.setName(b.fmt("clang-14 asan {s}", .{src}));
        run.addArgs(&c_flags);
        run.addArgs(&asan_flags);
        addIncludeArgs(b, run, &include_dirs);
        run.addArgs(&.{ "-MD", "-c" });
        run.addFileArg(b.path(src));
        run.addArg("-o");
        obj.* = run.addOutputFileArg(b.fmt("{s}.o", .{stem(src)}));
        _ = run.addPrefixedDepFileOutputArg("-MF", "obj.d");
    }
    return objs;
}

fn asanLink(b: *Build, name: []const u8, objs: []const LazyPath, criterion: bool) LazyPath {
    const run = pkgConfigCommand(b, &.{"clang-14"}, if (criterion) "--libs criterion liburcu-cds" else "--libs liburcu-cds");
    run.setName(b.fmt("clang-14 link {s}", .{name}));
    run.addArgs(&asan_flags);
    run.addArg("-pthread");
    for (objs) |obj| run.addFileArg(obj);
    run.addArg("-o");
    return run.addOutputFileArg(name);
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
