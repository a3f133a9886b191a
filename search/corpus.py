#!/usr/bin/env python3
"""search/corpus.py - the demo's default corpus: a deterministic generated tree.

    python3 search/corpus.py [--dir DIR] [--scale N]   # prints the tree's path

Why generated and not a real tree: the demo must behave the same on every
machine (a fresh Debian CI box has no big source tree to borrow), and it needs
a tree big enough that a full content scan takes several seconds on 2 cores,
small enough to make in under a minute (~1 GB here).  Every byte comes from a
seeded PRNG (random.Random), so two machines make the same tree and the demo's
counts are the same everywhere.

Where: $GOCHAN_SEARCH_CORPUS, else $XDG_CACHE_HOME/gochan-search, else
~/.cache/gochan-search.  Not the zig cache: `rm -rf .zig-cache` (or a new
worktree) must not cost a minute of regeneration, and one copy serves every
checkout and the Go twin's benchmark.  The tree is made in a temporary
directory next to its final name and renamed into place at the end, with a
manifest (file count, bytes, the generator's version) written last, so an
interrupted run never leaves a half tree that looks complete.
"""
import argparse
import json
import os
import random
import shutil
import sys

VERSION = 1
WORDS = (
    "the of and to in is for on that with as by this be are from at or an it not "
    "channel select context cancel deadline timer worker request response server "
    "client socket thread mutex futex buffer queue stream result scan file path "
    "directory pattern match line byte index value error status retry timeout "
    "goroutine send receive close done wait group signal handler parse read write "
    "open lock unlock atomic memory order release acquire relaxed ticker after "
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega north south "
    "east west river mountain forest ocean desert valley island harbor bridge tower"
).split()


def corpus_root():
    d = os.environ.get("GOCHAN_SEARCH_CORPUS")
    if d:
        return d
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "gochan-search", "corpus-v%d" % VERSION)


def make_pool(rng, n):
    """n distinct-ish lines of prose/code; about 1 in 400 has a doubled word."""
    pool = []
    for i in range(n):
        k = rng.randint(4, 14)
        words = [rng.choice(WORDS) for _ in range(k)]
        if i % 397 == 0:
            j = rng.randrange(k)
            words.insert(j, words[j])  # "the the": what the demo's regex finds
        else:
            # no accidental doubles, so the match count is what we planted
            for j in range(1, len(words)):
                while words[j] == words[j - 1]:
                    words[j] = rng.choice(WORDS)
        style = i % 5
        if style == 0:
            line = "// " + " ".join(words)
        elif style == 1:
            line = "    %s = %s(%s, %d);" % (words[0], words[1], ", ".join(words[2:5]), rng.randint(0, 9999))
        elif style == 2:
            line = "%s: %s" % (words[0].upper(), " ".join(words[1:]))
        else:
            line = " ".join(words).capitalize() + "."
        pool.append(line)
    return pool


def generate(final, scale):
    rng = random.Random(20261201)
    pool = make_pool(rng, 50000)
    tmp = final + ".tmp-%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    files = total = 0
    ntop = 32 * scale
    for a in range(ntop):
        for b in range(16):
            d = os.path.join(tmp, "src%03d" % a, "mod%02d" % b)
            os.makedirs(d)
            for f in range(rng.randint(40, 56)):
                nlines = rng.randint(50, 700)
                text = "\n".join(rng.choices(pool, k=nlines)) + "\n"
                data = text.encode()
                with open(os.path.join(d, "file%03d.%s" % (f, ("c", "h", "txt", "md")[f % 4])), "wb") as fh:
                    fh.write(data)
                files += 1
                total += len(data)
        # a few large files (64 KiB reads, cancellation inside a file) and binaries
        big = "\n".join(rng.choices(pool, k=60000)) + "\n"
        with open(os.path.join(tmp, "src%03d" % a, "big.log"), "wb") as fh:
            fh.write(big.encode())
        with open(os.path.join(tmp, "src%03d" % a, "blob.bin"), "wb") as fh:
            fh.write(bytes(rng.getrandbits(8) for _ in range(4096)) + b"\0" * 16)
        files += 2
        total += len(big) + 4112
    manifest = {"version": VERSION, "scale": scale, "files": files, "bytes": total}
    with open(os.path.join(tmp, "MANIFEST.json"), "w") as fh:
        json.dump(manifest, fh)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return manifest


def ensure(scale=1, root=None, quiet=False):
    """The corpus's path, generating it first if it is missing or stale."""
    final = root or corpus_root()
    if scale != 1:
        final += "-x%d" % scale
    try:
        with open(os.path.join(final, "MANIFEST.json")) as fh:
            m = json.load(fh)
        if m.get("version") == VERSION and m.get("scale") == scale:
            return final, m
    except (OSError, ValueError):
        pass
    os.makedirs(os.path.dirname(final) or ".", exist_ok=True)
    if not quiet:
        print("corpus: generating %s (once; reused afterwards) ..." % final, file=sys.stderr, flush=True)
    m = generate(final, scale)
    return final, m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", help="where (default: %s)" % corpus_root())
    ap.add_argument("--scale", type=int, default=1, help="size multiplier (1: ~1 GB)")
    a = ap.parse_args()
    path, m = ensure(a.scale, a.dir)
    print(path)
    print("files=%d bytes=%d" % (m["files"], m["bytes"]), file=sys.stderr)


if __name__ == "__main__":
    main()
