# scripts/gdb/gochan-fibers.py - gdb commands that see gochan's fibers
# (gochan/fiber.h, issue 18): a debugger sees the worker threads and the one
# fiber running on each, but not the fibers parked in a channel operation or
# waiting in a run queue.  Load it with
#
#     (gdb) source scripts/gdb/gochan-fibers.py
#
# (or `gdb -x scripts/gdb/gochan-fibers.py PROG`), in a program linked with a
# libgochan that has debug information (-g: the script reads the library's
# own structures by their types).  Commands:
#
#   info fibers               one line per fiber that gdb can reach: its id,
#                             state, function, and where it is parked (the
#                             operation, its channel, since when, and the
#                             caller's file:line)
#   fiber bt ID|all [full]    the backtrace of a fiber that is not running
#                             (parked or runnable), or of every such fiber
#
# What is listed.  Running: the fiber on each thread (the thread-local
# gofiber__cur).  Parked: every fiber with a record in the wait layer's
# registry of blocked operations (wait/record.c: a parked fiber has a record
# of its own from just before it parks until it runs again; what
# godiag_dump() lists).  Runnable: the fibers in the scheduler's run queues
# (fiber/sched.c), where the script knows their layout (milestone 2's
# worker slots and global queue, or milestone 1's single worker `W`); a
# fiber readied by a completed operation and not yet
# run is shown as runnable.  A fiber that has not yet run, or that was
# readied, is found only through the run queues; a runtime whose queues the
# script does not know (an M:N scheduler with other structures) lists the
# running and parked fibers only, and says so.
#
# How a backtrace is taken.  A fiber that is switched out left its
# callee-saved registers on its own stack (fiber/switch.c's frame, at
# ctx.sp, lowest address first):
#   x86_64   [MXCSR, x87 CW] r15 r14 r13 r12 rbx rbp return-address
#   aarch64  x19..x28 x29 x30 d8..d15 FPCR pad   (176 bytes)
# `fiber bt` saves the selected thread's registers, loads the fiber's (pc =
# the return address / x30, sp = just above the frame, the frame pointer and
# the other callee-saved registers from it), runs `bt`, and writes the
# thread's registers back, also when `bt` fails.  The thread is stopped
# throughout, so the program never runs with the fiber's registers.  The
# ucontext fallback (GOFIBER_UCONTEXT) is not supported.
import time

import gdb

OPS = {1: "send", 2: "recv", 3: "select", 4: "select {}", 5: "fiber_group_wait",
       6: "waitgroup_wait", 7: "library_wait"}  # wait/record.h enum gowait__op


def _static(name, file_suffix):
    """The static variable @name defined in a file ending in @file_suffix."""
    try:
        syms = gdb.lookup_static_symbols(name)
    except AttributeError:  # gdb < 10
        s = gdb.lookup_static_symbol(name)
        syms = [s] if s else []
    for s in syms:
        if s.symtab and s.symtab.filename.endswith(file_suffix):
            return s.value()
    return None


def _fiber_type():
    return gdb.lookup_type("struct gofiber").pointer()


def _where(pc):
    """'function at file:line' for a return address."""
    pc = int(pc)
    if pc == 0:
        return "?"
    sal = gdb.find_pc_line(pc - 1)
    blk = None
    try:
        blk = gdb.block_for_pc(pc - 1)
    except RuntimeError:
        pass
    fn = blk.function.name if blk is not None and blk.function else None
    if fn is None:
        fn = gdb.execute("info symbol %d" % (pc - 1), to_string=True).split(" in ")[0].strip()
    if sal.symtab:
        return "%s at %s:%d" % (fn, sal.symtab.filename, sal.line)
    return fn


def _func_name(fp):
    addr = int(fp)
    try:
        blk = gdb.block_for_pc(addr)
        if blk is not None and blk.function:
            return blk.function.name
    except RuntimeError:
        pass
    out = gdb.execute("info symbol %d" % addr, to_string=True)
    return out.split(" in ")[0].strip() if "No symbol" not in out else hex(addr)


def _list_walk(head, first_field="next"):
    """The nodes of a circular cds_list_head list (excluding the head)."""
    head_addr = int(head.address)
    node = head[first_field]
    seen = 0
    while int(node) != head_addr and int(node) != 0 and seen < 10_000_000:
        yield node
        node = node.dereference()[first_field]
        seen += 1


def _parked():
    """{fiber address: record} for every fiber record blocked in the registry."""
    reg = _static("registry", "wait/record.c")
    if reg is None:
        raise gdb.GdbError("gochan: no wait/record.c `registry` (a libgochan without -g?)")
    rec_t = gdb.lookup_type("struct gowait__rec")
    off = None
    for f in rec_t.fields():
        if f.name == "link":
            off = f.bitpos // 8
    out = {}
    for node in _list_walk(reg):
        rec = gdb.Value(int(node) - off).cast(rec_t.pointer()).dereference()
        if int(rec["fiber"]) != 0 and int(rec["blocked"]) == 1:
            out[int(rec["fiber"])] = rec
    return out


def _queue_list(first):
    ft = _fiber_type()
    f = first.cast(ft)
    n = 0
    while int(f) != 0 and n < 10_000_000:
        yield int(f)
        f = f["next"]
        n += 1


def _runnable():
    """The fibers in the run queues, or None if the scheduler's layout is
    not one this script knows.  fiber/sched.c (M:N, milestone 2): W.slots[0
    .. W.nslots) each with a ring q.slot[q.head .. q.tail) (mod its length)
    and q.runnext, and the global queue W.gq_head linked by ->next.
    Milestone 1: W.head and W.remote, linked by ->next."""
    w = _static("W", "fiber/sched.c")
    if w is None:
        return None
    try:
        names = [f.name for f in w.type.strip_typedefs().fields()]
        if "slots" in names:
            out = list(_queue_list(w["gq_head"]))
            slots = w["slots"]
            for i in range(int(w["nslots"])):
                q = slots[i]["q"]
                ring = q["slot"]
                size = ring.type.strip_typedefs().range()[1] + 1
                head, tail = int(q["head"]), int(q["tail"])
                for k in range(min((tail - head) & 0xFFFFFFFF, size)):
                    f = int(ring[(head + k) % size])
                    if f:
                        out.append(f)
                if int(q["runnext"]):
                    out.append(int(q["runnext"]))
            return out
        out = list(_queue_list(w["head"]))
        out += list(_queue_list(w["remote"]))
    except gdb.error:
        return None
    return out


def _running():
    """{fiber address: gdb thread number} of the fiber running on each thread."""
    out = {}
    cur = gdb.selected_thread()
    try:
        for t in gdb.selected_inferior().threads():
            try:
                t.switch()
                f = int(gdb.parse_and_eval("gofiber__cur"))
            except gdb.error:
                continue
            if f:
                out[f] = t.num
    finally:
        if cur is not None:
            cur.switch()
    return out


def _fibers():
    """[(address, state, extra)] of every fiber gdb can reach, and whether
    the run queues could be read."""
    running = _running()
    parked = _parked()
    runnable = _runnable()
    seen = {}
    for f, tnum in running.items():
        seen[f] = ("running", "on thread %d" % tnum)
    for f in runnable or []:
        seen.setdefault(f, ("runnable", ""))
    for f, rec in parked.items():
        seen.setdefault(f, ("parked", rec))
    return seen, runnable is not None


def _fiber_by_id(fid):
    seen, _ = _fibers()
    ft = _fiber_type()
    for f, st in seen.items():
        if int(gdb.Value(f).cast(ft)["id"]) == fid:
            return f, st
    raise gdb.GdbError("gochan: no fiber %d among those gdb can reach (info fibers)" % fid)


class InfoFibers(gdb.Command):
    """List gochan's fibers: id, state, function, where parked.
Usage: info fibers"""

    def __init__(self):
        super().__init__("info fibers", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        seen, queues = _fibers()
        ft = _fiber_type()
        now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e9
        rows = []
        for f, (state, extra) in seen.items():
            fib = gdb.Value(f).cast(ft)
            fid = int(fib["id"])
            fn = _func_name(fib["fn"])
            if state == "parked":
                rec = extra
                op = OPS.get(int(rec["op"]), str(int(rec["op"])))
                what = op
                if int(rec["chan"]):
                    what += " chan 0x%x" % int(rec["chan"])
                elif op == "select":
                    what += " of %d cases at 0x%x" % (int(rec["ncases"]), int(rec["cases"]))
                age = (now - int(rec["since"])) / 1e9
                where = "%s, for %.3f s, called from %s" % (what, age, _where(rec["ra"]))
            else:
                where = extra
            rows.append((fid, f, state, fn, where))
        rows.sort()
        print("%6s  %-18s  %-8s  %-24s  %s" % ("id", "fiber", "state", "function", "where"))
        for fid, f, state, fn, where in rows:
            print("%6d  0x%-16x  %-8s  %-24s  %s" % (fid, f, state, fn, where))
        print("%d fibers (%d running, %d runnable, %d parked)%s" % (
            len(rows),
            sum(r[2] == "running" for r in rows),
            sum(r[2] == "runnable" for r in rows),
            sum(r[2] == "parked" for r in rows),
            "" if queues else "; run queues unknown to this script: runnable fibers not listed"))


def _arch():
    return gdb.selected_inferior().architecture().name()


def _saved_regs(sp):
    """{register: value} a switched-out fiber's context restores, from its
    saved stack pointer (fiber/switch.c's frame)."""
    u64 = gdb.lookup_type("unsigned long long").pointer()
    p = gdb.Value(sp).cast(u64)
    arch = _arch()
    if "x86-64" in arch:
        # [0] MXCSR + x87 CW, [1] r15 [2] r14 [3] r13 [4] r12 [5] rbx [6] rbp [7] ret
        return {"r15": p[1], "r14": p[2], "r13": p[3], "r12": p[4], "rbx": p[5],
                "rbp": p[6], "rip": p[7], "rsp": sp + 64}
    if "aarch64" in arch:
        regs = {"x%d" % (19 + i): p[i] for i in range(10)}  # x19..x28
        regs.update({"x29": p[10], "pc": p[11], "sp": sp + 176})  # x30 is the return address
        regs["x30"] = p[11]
        return regs
    raise gdb.GdbError("gochan: fiber backtraces need x86_64 or aarch64 (this is %s)" % arch)


def _with_fiber_regs(sp, cmd):
    """Run gdb command @cmd with the selected thread's frame 0 showing the
    fiber whose context was saved at @sp; the thread's registers are put
    back afterwards, whatever happens."""
    regs = _saved_regs(sp)
    gdb.execute("frame 0", to_string=True)
    old = {r: int(gdb.parse_and_eval("$" + r)) for r in regs}
    try:
        for r, v in regs.items():
            gdb.execute("set $%s = %d" % (r, int(v)), to_string=True)
        return gdb.execute(cmd, to_string=True)
    finally:
        # The stack pointer and pc last: the frame is recomputed from them.
        for r in sorted(old, key=lambda r: r in ("rsp", "sp", "rip", "pc")):
            gdb.execute("set $%s = %d" % (r, old[r]), to_string=True)
        gdb.execute("frame 0", to_string=True)


class FiberPrefix(gdb.Command):
    """Commands for gochan's fibers (scripts/gdb/gochan-fibers.py)."""

    def __init__(self):
        super().__init__("fiber", gdb.COMMAND_STACK, prefix=True)


class FiberBt(gdb.Command):
    """Backtrace of a gochan fiber that is not running.
Usage: fiber bt ID|all [full]
Loads the fiber's saved registers into the selected thread, runs `bt`
(`bt full` with full), and restores the thread's registers."""

    def __init__(self):
        super().__init__("fiber bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv:
            raise gdb.GdbError("usage: fiber bt ID|all [full]")
        cmd = "bt full" if "full" in argv[1:] else "bt"
        ft = _fiber_type()
        if argv[0] == "all":
            seen, _ = _fibers()
            targets = sorted((int(gdb.Value(f).cast(ft)["id"]), f, st) for f, st in seen.items())
        else:
            f, st = _fiber_by_id(int(argv[0]))
            targets = [(int(argv[0]), f, st)]
        for fid, f, (state, extra) in targets:
            fib = gdb.Value(f).cast(ft)
            print("fiber %d (%s, %s):" % (fid, state, _func_name(fib["fn"])))
            if state == "running":
                print("  running %s: use `thread N` and `bt`" % extra)
                continue
            print(_with_fiber_regs(int(fib["ctx"]["sp"]), cmd), end="")


InfoFibers()
FiberPrefix()
FiberBt()
