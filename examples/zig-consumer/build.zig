//! examples/zig-consumer: a Zig project that depends on gochan (see
//! build.zig.zon) and uses it from Zig and from C.
//!   zig build run     build both programs and run them
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{ .preferred_optimize_mode = .ReleaseSafe });
    const gochan = b.dependency("gochan", .{ .target = target, .optimize = optimize });

    // Zig code: the module "gochan" is the C API (@cImport of <gochan.h>);
    // importing it links libgochan.a, liburcu-cds and pthread.
    const zig_exe = b.addExecutable(.{
        .name = "consumer-zig",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/main.zig"),
            .target = target,
            .optimize = optimize,
            .imports = &.{.{ .name = "gochan", .module = gochan.module("gochan") }},
        }),
    });
    b.installArtifact(zig_exe);

    // C code: the artifact "gochan" is libgochan.a with the public headers on
    // the include path; a static library does not carry its own
    // dependencies, so the program links liburcu and pthread itself.
    const c_mod = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true });
    c_mod.addCSourceFile(.{ .file = b.path("src/main.c"), .flags = &.{ "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror" } });
    c_mod.linkLibrary(gochan.artifact("gochan"));
    c_mod.linkSystemLibrary("liburcu-cds", .{});
    c_mod.linkSystemLibrary("pthread", .{});
    const c_exe = b.addExecutable(.{ .name = "consumer-c", .root_module = c_mod });
    b.installArtifact(c_exe);

    const run_step = b.step("run", "Run both programs");
    for ([_]*std.Build.Step.Compile{ zig_exe, c_exe }) |exe| {
        const run = b.addRunArtifact(exe);
        run.stdio = .inherit; // its "N passed, N failed" line; a non-zero exit fails the step
        run_step.dependOn(&run.step);
    }
}
