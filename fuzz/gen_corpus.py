#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<harness>/ (deterministic output).

    python3 fuzz/gen_corpus.py            # (re)write the seeds
Seeds are named seed-*; inputs merged in by fuzz/run.sh (MERGE=1) keep
libFuzzer's hash names, so regenerating never clobbers them.
The encodings are those documented at the top of each harness.
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# ---- fuzz_model ----------------------------------------------------------


def op(code, s=0, aux=0):
    return bytes([code | (s << 4) | (aux << 6)])


def make(s, size_i, cap_i):  # size_i: 0..3 -> {0,1,8,33}; cap_i: 0..7 -> {0,1,2,3,4,1,9,64}
    return op(0, s) + bytes([size_i | (cap_i << 2)])


def send(s, aux=0):
    return op(1, s, aux)


def recv(s, aux=0, discard=0, nook=0):
    return op(2, s, aux) + bytes([discard | (nook << 1)])


def close(s):
    return op(3, s)


def ln(s):
    return op(4, s)


def cp(s):
    return op(5, s)


def ref(s):
    return op(6, s)


def unref(s):
    return op(7, s)


def cs(s):  # send case
    return 1 | (s << 1)


def cr(s, d=0, nk=0):  # receive case
    return (s << 1) | (d << 4) | (nk << 5)


NIL = 8


def select(aux, cases, big=False, extra=0):
    base = len(cases)
    n = next(n for n in range(256) if n % 9 == base and ((n >> 4) & 7) == extra)
    return op(9 if big else 8, 0, aux) + bytes([n]) + bytes(cases)


def badnew(aux):
    return op(10, 0, aux)


def misuse(s, aux):
    return op(11, s, aux)


def dup(s, t):
    return op(12, s) + bytes([t])


def drop(s):
    return op(13, s)


def model_seeds():
    P = {}
    for size_i in range(4):
        for cap_i in (0, 1, 2, 6, 7):
            P[f"basic-size{size_i}-cap{cap_i}"] = (
                make(0, size_i, cap_i) + send(0) + send(0) + send(0) + ln(0) + cp(0)
                + recv(0) + recv(0, discard=1) + recv(0, nook=1) + recv(0) + close(0)
                + recv(0) + send(0) + close(0) + ln(0) + drop(0))
    P["fifo-drain-after-close"] = (make(1, 2, 6) + b"".join(send(1) for _ in range(9)) + send(1) + close(1)
                                   + b"".join(recv(1) for _ in range(11)))
    P["deadline-variants"] = (make(0, 2, 1) + send(0, 0) + send(0, 1) + send(0, 2) + send(0, 3)
                              + recv(0, 3) + recv(0, 3) + recv(0, 2) + recv(0, 1) + close(0)
                              + recv(0, 3) + send(0, 3))
    P["unbuffered-never-ready"] = (make(0, 2, 0) + send(0, 0) + send(0, 3) + recv(0, 0) + recv(0, 3)
                                   + select(0, [cs(0), cr(0)]) + select(3, [cs(0), cr(0)])
                                   + select(2, [cs(0), cr(0)]) + close(0) + select(0, [cs(0), cr(0)]))
    P["select-two-ready"] = (make(0, 2, 2) + make(1, 1, 2) + send(0) + send(1)
                             + select(0, [cr(0), cr(1)]) + select(0, [cr(0), cr(1)])
                             + select(0, [cr(0), cr(1)]) + select(1, [cr(0), cr(1)]))
    P["select-nil-and-dups"] = (make(0, 2, 3) + send(0) + send(0)
                                + select(0, [cr(0) | NIL, cr(0), cr(0), cs(0) | NIL, cs(2)])
                                + select(0, [cr(3), cs(3), cr(0, 1, 1), cr(0, 0, 1)]) + ln(0))
    P["select-send-closed"] = (make(2, 1, 1) + close(2) + select(0, [cs(2)]) + select(0, [cs(2, ), cr(2)])
                               + select(3, [cs(2) | 32]))
    P["select-send-recv-same-buffered"] = (make(0, 2, 1) + select(0, [cs(0), cr(0)]) + select(0, [cs(0), cr(0)])
                                           + select(0, [cs(0), cr(0)]) + ln(0))
    P["select-empty"] = select(0, []) + select(1, []) + select(2, []) + select(3, [])
    P["select-all-nil"] = select(0, [cr(0), cs(1), cr(2) | NIL]) + select(2, [cr(0) | NIL])
    P["big-select"] = (make(0, 2, 7) + make(1, 3, 4) + send(0) + send(1)
                       + select(0, [cr(0), cs(1), cr(2)], big=True, extra=7)
                       + select(3, [cr(1)], big=True, extra=0)
                       + select(0, [cs(0), cr(3)], big=True, extra=3)
                       + select(2, [cr(3)], big=True))
    P["refs"] = (make(0, 1, 1) + ref(0) + ref(0) + unref(0) + dup(0, 1) + dup(1, 2) + unref(0)
                 + unref(0) + send(1) + recv(2) + drop(1) + ref(2) + unref(2) + unref(2) + unref(3)
                 + ref(3) + dup(3, 0) + dup(0, 0))
    P["many-refs"] = make(3, 0, 0) + b"".join(ref(3) for _ in range(10)) + b"".join(unref(3) for _ in range(10))
    P["remake-slot"] = make(0, 1, 2) + send(0) + make(0, 2, 3) + send(0) + make(0, 0, 0) + close(0) + make(0, 3, 7)
    P["nil-ops"] = (send(1, 0) + send(1, 1) + send(1, 3) + recv(1, 0) + recv(1, 3) + close(1) + ln(1) + cp(1)
                    + ref(1) + unref(1) + dup(1, 2) + drop(1))
    P["misuse-all"] = (make(0, 2, 2) + make(1, 0, 1) + send(0) + misuse(0, 0) + misuse(0, 1) + misuse(0, 2)
                       + misuse(0, 3) + misuse(1, 0) + misuse(1, 3) + misuse(2, 2) + ln(0) + recv(0))
    P["badnew-all"] = badnew(0) + badnew(1) + badnew(2) + badnew(3)
    P["close-then-select-recv"] = (make(0, 3, 2) + send(0) + close(0)
                                   + select(0, [cr(0), cr(0)]) + select(0, [cr(0), cr(0)])
                                   + select(3, [cr(0, 1, 0)]) + select(0, [cr(0, 0, 1), cs(0)]))
    P["timed-selects"] = (make(0, 1, 0) + select(2, [cr(0)]) + select(2, [cs(0)]) + select(3, [cr(0)])
                          + send(0, 3) + recv(0, 3))
    rnd = random.Random(20261125)
    for i in range(16):
        P[f"random-{i:02d}"] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(8, 160)))
    return P


# ---- fuzz_concurrent -------------------------------------------------------


def conc(nthr, nch, caps, scripts, chaos=False):
    h = (nthr - 2) | ((nch - 1) << 2) | (0x80 if chaos else 0)
    c = 0
    for i, cap in enumerate(caps):
        c |= {0: 0, 1: 1, 2: 2, 4: 3}[cap] << (2 * i)
    out = bytes([h, c])
    for sc in scripts:
        ops = b""
        n = 0
        for o in sc:
            ops += bytes(o)
            n += 1
        out += bytes([n]) + ops
    return out


def cop(kind, ch=0, dl=12):  # dl index: 0 nowait, 1/15 try, 2.. +20us .. 14 +2ms
    return [kind | (ch << 3) | (dl << 4)]


def csel(mask, dl=12):
    return [4 | (dl << 4), mask]


S, R, C = 0, 2, 6


def conc_seeds():
    P = {}
    for cap in (0, 1, 4):
        P[f"pingpong-cap{cap}"] = conc(2, 1, [cap], [[cop(S)] * 12, [cop(R)] * 12])
        P[f"close-wakes-cap{cap}"] = conc(3, 1, [cap], [[cop(R, dl=14)] * 3, [cop(R, dl=14)] * 3,
                                                         [cop(S), cop(C, dl=0), cop(S)]])
        P[f"mpmc-cap{cap}"] = conc(4, 1, [cap], [[cop(S)] * 10, [cop(S)] * 10, [cop(R)] * 10, [cop(R)] * 10])
    P["select-two-chans"] = conc(3, 2, [0, 2], [[csel(0b0101)] * 8, [csel(0b1010)] * 8, [cop(R, 1), cop(S, 0)] * 4])
    P["select-self"] = conc(2, 1, [0], [[csel(0b000011)] * 6, [cop(S), cop(R)] * 4])
    P["select-nil-dup"] = conc(2, 1, [1], [[csel(0b110010)] * 8, [cop(S)] * 8])
    P["close-race"] = conc(4, 1, [2], [[cop(S, dl=6)] * 6, [cop(C, dl=0)], [cop(R, dl=6)] * 6, [cop(C)]])
    P["timeouts"] = conc(2, 2, [0, 0], [[cop(S, 0, 2), cop(R, 0, 3), cop(S, 1, 4)] * 3,
                                        [cop(R, 0, 2), cop(S, 0, 3), cop(R, 1, 4)] * 3])
    P["try-only"] = conc(3, 1, [1], [[cop(S, dl=1)] * 12, [cop(R, dl=1)] * 12, [cop(R, dl=15)] * 12])
    P["chaos-pingpong"] = conc(2, 1, [0], [[cop(S)] * 12, [cop(R)] * 12], chaos=True)
    P["chaos-mpmc"] = conc(4, 2, [1, 0], [[csel(0b0101)] * 6, [csel(0b1010)] * 6, [cop(S, 1)] * 6,
                                          [cop(R, 0)] * 6], chaos=True)
    rnd = random.Random(777)
    for i in range(12):
        P[f"random-{i:02d}"] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(6, 60)))
    return P


# ---- fuzz_context ---------------------------------------------------------


def xop(code, s=0, f=0):
    return bytes([code | (s << 4) | (f << 7)])


BG, TODO = 7, 15  # parent bytes naming an (unused) empty slot 7: Background / TODO


def x_cancel(s, p, f=0):
    return xop(0, s, f) + bytes([p])


def x_deadline(s, p, off, cause=0, timeout=0):  # off: 0 passed, 1 now, 2 30us, 3 150us, 4 600us, 5 3ms, 6 1h, 7 none
    return xop(1, s, timeout) + bytes([p, off | (cause << 3)])


def x_value(s, p, key, val):
    return xop(2, s) + bytes([p, key | (val << 2)])


def x_without(s, p):
    return xop(3, s) + bytes([p])


def x_cancel_op(s, code=None):
    return xop(4, s) if code is None else xop(4, s, 1) + bytes([code])


def x_cancel_release(s):
    return xop(5, s)


def x_release(s):
    return xop(6, s)


def x_ref(s, t):
    return xop(7, s) + bytes([t])


def x_after(s):
    return xop(8, s)


def x_stop(i):
    return xop(9) + bytes([i])


X_SLEEP = xop(10)


def x_recv(s):
    return xop(11, s)


def x_send(s):
    return xop(11, s, 1)


def x_misuse(k):
    return xop(12, k)


def context_seeds():
    P = {}
    P["tree-cancel"] = (x_cancel(0, BG) + x_cancel(1, 0) + x_value(2, 1, 0, 1) + x_cancel(3, 2) + x_without(4, 3)
                        + x_cancel(5, 4) + x_cancel_op(1) + x_cancel_op(0) + x_cancel(6, 2) + x_release(3))
    P["cause-first-wins"] = (x_cancel(0, TODO, 1) + x_cancel(1, 0) + x_cancel_op(0, 5) + x_cancel_op(0, 9)
                             + x_cancel_op(1, 3) + x_cancel_op(0) + x_cancel(2, 1))
    P["cause-nil"] = x_cancel(0, BG, 1) + x_cancel(1, 0) + x_cancel_op(0, 0) + x_cancel(2, 0)
    P["deadline-passed"] = (x_cancel(0, BG) + x_deadline(1, 0, 0) + x_deadline(2, 0, 1, 1) + x_deadline(3, 0, 0, 0, 1)
                            + x_deadline(4, 0, 1, 1, 1) + x_cancel(5, 4) + x_cancel_op(0))
    P["deadline-short"] = (x_deadline(0, BG, 2) + x_cancel(1, 0) + x_value(2, 1, 1, 3) + X_SLEEP + x_cancel_op(1)
                           + x_deadline(3, TODO, 3, 1) + x_deadline(4, 3, 5, 1) + X_SLEEP + X_SLEEP)
    P["deadline-nested"] = (x_deadline(0, BG, 5, 1) + x_deadline(1, 0, 4, 1) + x_deadline(2, 1, 2, 1)
                            + x_deadline(3, 2, 6) + x_deadline(4, 0, 7) + X_SLEEP + X_SLEEP + X_SLEEP)
    P["deadline-parent-earlier"] = (x_deadline(0, BG, 3, 1) + x_deadline(1, 0, 6, 1) + x_deadline(2, 0, 5, 1, 1)
                                    + X_SLEEP)
    P["timeout-forms"] = (x_deadline(0, BG, 4, 0, 1) + x_deadline(1, 0, 2, 1, 1) + x_deadline(2, 1, 6, 0, 1)
                          + X_SLEEP + x_cancel_op(2))
    P["values"] = (x_value(0, BG, 0, 0) + x_value(1, 0, 1, 1) + x_value(2, 1, 0, 7) + x_without(3, 2)
                   + x_value(4, 3, 2, 4) + x_cancel(5, 4) + x_value(6, 5, 3, 5) + x_cancel_op(5)
                   + x_cancel_op(0) + x_cancel_op(3))
    P["without-cancel"] = (x_cancel(0, BG) + x_deadline(1, 0, 5) + x_without(2, 1) + x_cancel(3, 2)
                           + x_deadline(4, 2, 2) + x_cancel_op(0) + X_SLEEP)
    P["after-func"] = (x_cancel(0, BG) + x_after(0) + x_after(0) + x_cancel(1, 0) + x_after(1) + x_stop(1)
                       + x_cancel_op(0) + x_stop(0) + x_stop(1) + x_after(0) + x_after(7) + x_stop(4))
    P["after-func-deadline"] = (x_deadline(0, BG, 3) + x_after(0) + x_deadline(1, BG, 6) + x_after(1) + X_SLEEP
                                + x_stop(0) + x_stop(1))
    P["ctx-io"] = (x_cancel(0, BG) + x_send(0) + x_send(0) + x_send(0) + x_recv(0) + x_recv(0) + x_recv(0)
                   + x_deadline(1, BG, 4) + x_recv(1) + x_send(1) + x_send(1) + x_send(1) + x_cancel_op(0) + x_send(0)
                   + x_recv(0) + x_recv(7) + x_send(7))
    P["refs-release"] = (x_cancel(0, BG) + x_ref(0, 1) + x_ref(0, 2) + x_release(0) + x_cancel(3, 1) + x_release(1)
                         + x_cancel_release(2) + x_cancel(4, 3) + x_cancel_release(3) + x_release(4))
    P["cancel-release-all"] = b"".join(x_cancel(i, i - 1 if i else BG) for i in range(7)) + b"".join(
        x_cancel_release(i) for i in range(7))
    P["misuse"] = b"".join(x_misuse(k) for k in range(8)) + x_cancel_op(7) + x_cancel_release(7) + x_value(0, BG, 0, 0) \
        + x_cancel_op(0) + x_without(1, BG) + x_cancel_op(1)
    rnd = random.Random(4242)
    for i in range(14):
        P[f"random-{i:02d}"] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(8, 120)))
    return P


# ---- fuzz_bubble: byte 0 the bug, byte 1 the strategy, then decisions ----

BUGS = 10  # tests/bugs/catalogue.c


def bubble_seeds():
    S = {}
    for bug in range(BUGS):
        for how, hn in ((0, "seeded"), (1, "switch"), (2, "jumps")):
            S["bug%d-%s" % (bug, hn)] = bytes([bug, how])
        # every decision 1: the second runnable fiber, a switch at every point
        S["bug%d-jumps-ones" % bug] = bytes([bug, 2]) + bytes([1] * 16)
    return S


def write(name, seeds):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, "seed-" + k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    write("model", model_seeds())
    write("concurrent", conc_seeds())
    write("context", context_seeds())
    write("bubble", bubble_seeds())
