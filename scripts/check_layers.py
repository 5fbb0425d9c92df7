#!/usr/bin/env python3
# check_layers.py - checks that sea's library keeps its layering: each layer in
# src/<layer>/ uses only the layers below it (by its #includes and by the
# symbols its object files use), files do not depend on each other in cycles
# (except the few listed in src/layers.allow), and code outside the library
# uses only the public <sea/...> headers.  CTest runs it on every build:
#
#   python3 scripts/check_layers.py --root <source dir> [--allow <file>] <objects...>
#   python3 scripts/check_layers.py --self-test
#
# Exit status: 0 with a one-line summary on stdout when all is well; 1 with one
# line per violation on stderr otherwise; 2 when it cannot run (bad arguments,
# nm missing).  Warnings (such as a stale allow-list entry) do not fail it.

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict, deque

# The layers, bottom to top, with their rank.  Layers of the same rank are
# siblings: neither may use the other (net and disk both stand on core, and
# keeping them apart keeps each one usable without the other).
LAYER_RANK = {
    "base": 0,
    "mem": 1,
    "core": 2,
    "net": 3,
    "disk": 3,
    "http": 4,
    "app": 5,
}

# Source files whose #includes are checked.
SOURCE_SUFFIXES = (".c", ".h", ".S", ".s")

# Directories outside src/ whose code sees only the public API, as a user's
# program would.  tests/unit/ is left out on purpose: unit tests may include
# any private header, of any layer.
PUBLIC_ONLY_DIRS = (
    "apps",
    "examples",
    "bench",
    "tests/api",
    "tests/programs",
    "tests/support",
)

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')

# The C library's allocator, which mem replaces (SEA_MALLOC_OVERRIDE).  A call
# to malloc is a call to the C library's interface, which every layer (base
# too) may make; whether sea's or libc's implementation answers is the
# program's choice at link time (sanitizer builds keep libc's).  So these names
# make no dependency, and the graph is the same with the override on or off.
LIBC_REPLACEMENTS = frozenset((
    "malloc", "free", "calloc", "realloc", "reallocarray", "aligned_alloc",
    "memalign", "posix_memalign", "valloc", "pvalloc", "malloc_usable_size",
))

# How many symbols to name on one edge of a cycle before saying "+N more".
SYMBOLS_SHOWN = 3


def relation(user, used):
    """Why layer `user` may not use layer `used`, as (kind, reason), e.g.
    ("upward", "core is above base"); None when it may."""
    if user == used or LAYER_RANK[used] < LAYER_RANK[user]:
        return None
    if LAYER_RANK[used] > LAYER_RANK[user]:
        return "upward", "%s is above %s" % (used, user)
    return "sibling", "%s is a sibling of %s" % (used, user)


# ---------------------------------------------------------------------------
# 1. Includes
# ---------------------------------------------------------------------------

def read_includes(path):
    """The (line number, bracket, name) of each #include in a file."""
    found = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if m:
                found.append((number, m.group(1), m.group(2).strip()))
    return found


def walk_sources(root, top):
    """Relative paths (with '/') of the source files under root/top, sorted."""
    found = []
    base = os.path.join(root, top)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in filenames:
            if name.endswith(SOURCE_SUFFIXES):
                full = os.path.join(dirpath, name)
                found.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(found)


def shown(bracket, name):
    return '"%s"' % name if bracket == '"' else "<%s>" % name


def check_library_includes(root, errors):
    """Rule 1 for the library: src/<layer>/ includes only its own or lower layers."""
    src = os.path.join(root, "src")
    if not os.path.isdir(src):
        errors.append("no src/ directory under %s" % root)
        return
    for entry in sorted(os.listdir(src)):
        full = os.path.join(src, entry)
        if os.path.isdir(full):
            if entry not in LAYER_RANK:
                # A new directory needs a rank before anything can be checked.
                errors.append("src/%s/ is not a layer (known: %s); add it to LAYER_RANK "
                              "in scripts/check_layers.py" % (entry, ", ".join(LAYER_RANK)))
        elif entry.endswith(SOURCE_SUFFIXES):
            # Every source belongs to a layer, so that its rank is known.
            errors.append("source outside any layer: src/%s (move it into src/<layer>/)" % entry)

    for layer in sorted(LAYER_RANK, key=lambda l: (LAYER_RANK[l], l)):
        if not os.path.isdir(os.path.join(src, layer)):
            continue
        for rel in walk_sources(root, "src/" + layer):
            for number, bracket, name in read_includes(os.path.join(root, rel)):
                first = name.split("/")[0]
                where = "%s:%d includes %s" % (rel, number, shown(bracket, name))
                if bracket == "<" and not os.path.isfile(os.path.join(src, name)):
                    # <sea/...> and system headers.  (An angle include of a
                    # file in src/, which is on the library's include path, is
                    # a private one and is checked like a quoted one; <net/if.h>
                    # is the system's, not our net's, as no src/net/if.h exists.)
                    continue
                if first not in LAYER_RANK:
                    # "internal.h" hides which layer it comes from, so the rank
                    # rule cannot be checked on it; say how to write it instead.
                    hint = ""
                    for candidate in sorted(LAYER_RANK):
                        if os.path.isfile(os.path.join(src, candidate, name)):
                            hint = ' (write "%s/%s")' % (candidate, name)
                            break
                    errors.append("include private headers with their layer: %s%s"
                                  % (where, hint))
                    continue
                why = relation(layer, first)
                if why:
                    errors.append("%s include: %s (%s)" % (why[0], where, why[1]))


def check_public_only_includes(root, errors):
    """Rule 1 outside the library: apps, examples, ... use public headers only."""
    src = os.path.join(root, "src")
    for top in PUBLIC_ONLY_DIRS:
        if not os.path.isdir(os.path.join(root, top)):
            continue
        for rel in walk_sources(root, top):
            here = os.path.dirname(os.path.join(root, rel))
            for number, bracket, name in read_includes(os.path.join(root, rel)):
                first = name.split("/")[0]
                private = False
                if "src/" in name:
                    private = True
                elif bracket == '"':
                    # A header next to the including file is its own (bench.h,
                    # a test program's helper).  Otherwise a quoted name is
                    # private when it names a layer or would be found in src/.
                    if not os.path.isfile(os.path.join(here, name)):
                        private = first in LAYER_RANK or os.path.isfile(os.path.join(src, name))
                else:
                    private = os.path.isfile(os.path.join(src, name))
                if private:
                    errors.append("private header outside the library: %s:%d includes %s "
                                  "(%s/ may use only <sea/...> headers)"
                                  % (rel, number, shown(bracket, name), top))


# ---------------------------------------------------------------------------
# 2. Symbols
# ---------------------------------------------------------------------------

def source_of_object(obj, root):
    """Map build/src/CMakeFiles/sea_core.dir/core/reactor.c.o to
    ('src/core/reactor.c', 'core', 'core'): the source, the layer its directory
    names and the layer whose object library built it.  None if not that shape."""
    parts = os.path.normpath(obj).replace(os.sep, "/").split("/")
    for i, part in enumerate(parts):
        m = re.fullmatch(r"sea_(\w+)\.dir", part)
        if m and i + 1 < len(parts):
            rest = "/".join(parts[i + 1:])
            break
    else:
        return None
    for suffix in (".o", ".obj"):
        if rest.endswith(suffix):
            rest = rest[: -len(suffix)]
            break
    rel = "src/" + rest
    if not os.path.isfile(os.path.join(root, rel)):
        # With CMAKE_C_OUTPUT_EXTENSION_REPLACE the source suffix is dropped.
        for suffix in (".c", ".S", ".s"):
            if os.path.isfile(os.path.join(root, rel + suffix)):
                rel += suffix
                break
    return rel, rest.split("/")[0], m.group(1)


# nm's letters (GNU binutils).  Upper case is global, lower case local, with
# exceptions: 'i' (an ifunc) and 'u' (a unique global) are global definitions,
# and 'w'/'v' are weak references, not definitions.  Thread-local variables
# show as B or D like any other variable (nm has no letter of its own for TLS).
STRONG = set("ABDGRSTiu")
WEAK = set("VWC")  # weak definitions; a common symbol yields to a real one too
UNDEFINED = set("Uwv")


def read_symbols(nm, objects):
    """Run nm once over all objects: {object: (defined {sym: 'strong'|'weak'},
    undefined set)}.  Portable format, one symbol a line: 'name type [value size]'."""
    table = {obj: ({}, set()) for obj in objects}
    if not objects:
        return table
    # -A puts "file: " before each line, in the order the files were given;
    # matching that known prefix (not splitting on ':') keeps odd paths safe.
    proc = subprocess.run([nm, "-A", "-P", "--no-sort"] + list(objects),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (nm, proc.stderr.strip()))
    pending = list(objects)
    current = 0
    for line in proc.stdout.splitlines():
        while current < len(pending) and not line.startswith(pending[current] + ": "):
            current += 1
        if current == len(pending):
            raise RuntimeError("cannot read nm output line: %r" % line)
        fields = line[len(pending[current]) + 2:].split()
        if len(fields) < 2:
            continue
        name, kind = fields[0], fields[1]
        defined, undefined = table[pending[current]]
        if kind in UNDEFINED:
            undefined.add(name)
        elif kind in STRONG:
            defined[name] = "strong"
        elif kind in WEAK:
            defined.setdefault(name, "weak")
        # Everything else is local (t, d, r, b ...) or debugging: not linkable.
    return table


def resolve_definitions(table, source, errors):
    """{symbol: [sources defining it]}: the strong definition, or, when there is
    none, every weak one (any of them may be the one that gets linked)."""
    strong = defaultdict(set)
    weak = defaultdict(set)
    for obj, (defined, _) in table.items():
        for name, how in defined.items():
            (strong if how == "strong" else weak)[name].add(source[obj])
    where = {}
    for name in sorted(set(strong) | set(weak)):
        if len(strong[name]) > 1:
            # Two strong definitions fail the link of the whole library.
            errors.append("%s is defined in several files: %s"
                          % (name, ", ".join(sorted(strong[name]))))
        where[name] = sorted(strong[name]) or sorted(weak[name])
    return where


# ---------------------------------------------------------------------------
# 3. Cycles
# ---------------------------------------------------------------------------

def strongly_connected(nodes, succ):
    """Tarjan's algorithm, iterative (no recursion limit); each SCC sorted."""
    index, low = {}, {}
    stack, on_stack = [], set()
    sccs = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(succ.get(start, ()))))]
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    break  # descend into w; v's remaining children wait
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    sccs.append(sorted(component))
    return sorted(sccs)


def shortest_path(succ, members, start, targets):
    """Shortest path inside `members` from start to any of targets (BFS,
    neighbours in sorted order so the answer is always the same)."""
    previous = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(succ.get(v, ())):
            if w in members and w not in previous:
                previous[w] = v
                if w in targets:
                    path = [w]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return path[::-1]
                queue.append(w)
    return None


def walk_through(component, succ):
    """A closed walk that starts at the first file of the component, visits
    every file of it, and returns: each of its edges is one use to break."""
    members = set(component)
    start = component[0]
    walk = [start]
    unvisited = members - {start}
    while unvisited:
        step = shortest_path(succ, members, walk[-1], unvisited)
        walk.extend(step[1:])
        unvisited -= set(step)
    walk.extend(shortest_path(succ, members, walk[-1], {start})[1:])
    return walk


def describe_walk(walk, edges):
    text = walk[0]
    for a, b in zip(walk, walk[1:]):
        symbols = sorted(edges[(a, b)])
        named = ", ".join(symbols[:SYMBOLS_SHOWN])
        if len(symbols) > SYMBOLS_SHOWN:
            named += ", +%d more" % (len(symbols) - SYMBOLS_SHOWN)
        text += " -> %s (%s)" % (b, named)
    return text


def read_allow_list(path):
    """[(line number, frozenset of files)], one allowed cycle a line."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            files = line.split("#", 1)[0].split()
            if files:
                entries.append((number, frozenset(os.path.normpath(p).replace(os.sep, "/")
                                                  for p in files)))
    return entries


# ---------------------------------------------------------------------------
# The whole check
# ---------------------------------------------------------------------------

def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def check(root, objects, allow_path, nm="nm", graph=False):
    """Run every check.  Returns (errors, warnings, summary, graph lines)."""
    errors, warnings, graph_lines = [], [], []

    check_library_includes(root, errors)
    check_public_only_includes(root, errors)

    # Map each object to its source and layer.
    source, layer = {}, {}
    for obj in sorted(set(objects)):
        if not os.path.isfile(obj):
            errors.append("no such object file: %s" % obj)
            continue
        mapped = source_of_object(obj, root)
        if mapped is None:
            errors.append("cannot tell the source of %s (expected .../sea_<layer>.dir/"
                          "<layer>/<file>.o)" % obj)
            continue
        rel, dir_layer, lib_layer = mapped
        if dir_layer not in LAYER_RANK:
            errors.append("%s is not in a layer directory (built from %s)" % (rel, obj))
            continue
        if lib_layer != dir_layer:
            errors.append("%s is built into sea_%s, but its directory says it is in %s"
                          % (rel, lib_layer, dir_layer))
        if not os.path.isfile(os.path.join(root, rel)):
            warnings.append("%s (from %s) is not in the source tree" % (rel, obj))
        if rel in layer:
            # Objects of two builds mixed up would double every symbol.
            errors.append("two objects for %s: %s and %s"
                          % (rel, [o for o in source if source[o] == rel][0], obj))
            continue
        source[obj] = rel
        layer[rel] = dir_layer

    table = read_symbols(nm, sorted(source))
    where = resolve_definitions(table, source, errors)

    # The file graph: edges[(user, definer)] = symbols.
    edges = defaultdict(set)
    for obj, (_, undefined) in table.items():
        user = source[obj]
        for name in undefined - LIBC_REPLACEMENTS:
            for definer in where.get(name, ()):  # defined nowhere here: libc etc.
                if definer != user:
                    edges[(user, definer)].add(name)

    upward = 0
    for (user, definer), names in sorted(edges.items()):
        why = relation(layer[user], layer[definer])
        if why:
            for name in sorted(names):
                upward += 1
                errors.append("%s dependency: %s uses %s, defined in %s (%s)"
                              % (why[0], user, name, definer, why[1]))

    succ = defaultdict(set)
    for user, definer in edges:
        succ[user].add(definer)
    cycles = [c for c in strongly_connected(layer, succ) if len(c) > 1]

    allowed_entries = []
    if allow_path and os.path.isfile(allow_path):
        allowed_entries = read_allow_list(allow_path)
    # An entry is still alive while some cycle runs through two of its files:
    # either the cycle is accepted, or it has grown and its error names the
    # entry.  Only an entry that no cycle touches any more is stale.
    live_entries = set()
    allowed_cycles = 0
    for component in cycles:
        touched = [(n, files) for n, files in allowed_entries
                   if len(files & set(component)) >= 2]
        live_entries.update(n for n, _ in touched)
        if any(set(component) <= files for _, files in touched):
            allowed_cycles += 1
            continue
        message = "cycle between %s: %s" % (
            plural(len(component), "file"), describe_walk(walk_through(component, succ), edges))
        # Name the entry that covers most of it.
        touched.sort(key=lambda entry: (-len(entry[1] & set(component)), entry[0]))
        for n, files in touched[:1]:
            message += " (it has grown: the allow-list line %d accepts only %s)" % (
                n, " ".join(sorted(files)))
        errors.append(message)
    for n, files in allowed_entries:
        if n not in live_entries:
            warnings.append("stale allow-list entry %s:%d: %s is no cycle any more"
                            % (os.path.relpath(allow_path, root), n, " ".join(sorted(files))))

    if graph:
        # Layer-level counts, for the documentation: distinct symbols (and file
        # pairs) with which one layer uses another.
        symbols = defaultdict(set)
        pairs = defaultdict(int)
        for (user, definer), names in edges.items():
            key = (layer[user], layer[definer])
            if key[0] != key[1]:
                symbols[key].update(names)
                pairs[key] += 1
        def top_down(pair):
            return [(-LAYER_RANK[l], l) for l in pair]
        for user, used in sorted(symbols, key=top_down):
            mark = "  (not allowed)" if relation(user, used) else ""
            graph_lines.append("%s -> %s: %s in %s%s" % (
                user, used, plural(len(symbols[(user, used)]), "symbol"),
                plural(pairs[(user, used)], "file pair"), mark))

    if not cycles:
        cycle_text = "no cycles"
    elif allowed_cycles == len(cycles):
        cycle_text = plural(allowed_cycles, "allowed cycle")
    else:
        cycle_text = "%s (%d allowed)" % (plural(len(cycles), "cycle"), allowed_cycles)
    summary = "layers: %s, %s, %d %s, %s, %s" % (
        plural(len(layer), "file"),
        plural(len(set(layer.values())), "layer"),
        len(edges), "dependency" if len(edges) == 1 else "dependencies",
        "no upward use" if upward == 0 else "%d upward or sibling %s" % (
            upward, "use" if upward == 1 else "uses"),
        cycle_text)
    return errors, warnings, summary, graph_lines


# ---------------------------------------------------------------------------
# 4. Self-test: a tiny tree with one of each violation
# ---------------------------------------------------------------------------

SELF_TEST_FILES = {
    # Upward: base calls into core, and reads one of its thread-locals.
    "src/base/a.c": "int core_b(void);\nextern __thread int core_tls;\nint base_a(void);\n"
                    "int base_a(void) { return core_b() + core_tls; }\n",
    "src/core/b.c": "__thread int core_tls;\nint core_b(void);\nint core_b(void) { return 2; }\n",
    # A cycle inside core.
    "src/core/c.c": "int core_d(int);\nint core_c(int);\n"
                    "int core_c(int n) { return n ? core_d(n - 1) : 0; }\n",
    "src/core/d.c": "int core_c(int);\nint core_d(int);\n"
                    "int core_d(int n) { return n ? core_c(n - 1) : 1; }\n",
    # Good: core uses base, through a prefixed private header, and a
    # thread-local and a weak symbol defined below it.
    "src/base/util.h": "int base_util(void);\nextern __thread int base_tls;\n",
    "src/base/util.c": '#include "base/util.h"\n__thread int base_tls;\n'
                       "__attribute__((weak)) int base_weak(void);\n"
                       "__attribute__((weak)) int base_weak(void) { return 0; }\n"
                       "int base_util(void) { return base_tls + base_weak(); }\n",
    "src/core/good.c": '#include <stdio.h>\n#include "base/util.h"\n'
                       "int base_weak(void);\nint core_good(void);\n"
                       "int core_good(void) { return base_util() + base_tls + base_weak(); }\n",
    # Includes: base including a core header; examples including it too; an
    # include without its layer; net using its sibling disk.
    "src/core/x.h": "#define CORE_X 1\n",
    "src/base/inc.c": '#include "core/x.h"\nint base_inc(void);\nint base_inc(void) { return CORE_X; }\n',
    "src/core/noprefix.c": '#include "x.h"\nint core_np(void);\nint core_np(void) { return CORE_X; }\n',
    "src/disk/k.c": "int disk_k(void);\nint disk_k(void) { return 4; }\n",
    "src/net/n.c": "int disk_k(void);\nint net_n(void);\nint net_n(void) { return disk_k(); }\n",
    "examples/ex.c": '#include "core/x.h"\nint main(void) { return CORE_X; }\n',
    # Allowed: a test program's own header; a unit test may include anything.
    "tests/programs/helper.h": "#define HELPER 1\n",
    "tests/programs/prog.c": '#include "helper.h"\nint main(void) { return HELPER; }\n',
    "tests/unit/test_x.c": '#include "core/x.h"\nint main(void) { return CORE_X; }\n',
}

# The files a clean tree keeps (everything above that breaks no rule, plus the
# cycle, which the allow-list then accepts).
SELF_TEST_CLEAN = [
    "src/base/util.h", "src/base/util.c", "src/core/good.c", "src/core/b.c",
    "src/core/c.c", "src/core/d.c", "src/core/x.h", "src/disk/k.c",
    "tests/programs/helper.h", "tests/programs/prog.c", "tests/unit/test_x.c",
]


def build_fake_tree(top, files, cc):
    """Write the files under top/ and compile each src/<layer>/*.c into
    top/build/src/CMakeFiles/sea_<layer>.dir/<layer>/<file>.c.o."""
    objects = []
    for rel, text in files.items():
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    for rel in sorted(files):
        parts = rel.split("/")
        if parts[0] != "src" or not rel.endswith(".c"):
            continue
        obj = os.path.join(top, "build/src/CMakeFiles/sea_%s.dir" % parts[1],
                           *parts[1:]) + ".o"
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        # -I src/core lets the unprefixed "x.h" compile, as internal.h did.
        subprocess.run([cc, "-c", "-O1", "-I", os.path.join(top, "src"),
                        "-I", os.path.join(top, "src/core"),
                        os.path.join(top, rel), "-o", obj], check=True)
        objects.append(obj)
    return objects


def run_cli(root, objects, allow=None, extra=()):
    """Run this script as CTest would; returns (status, stdout, stderr)."""
    command = [sys.executable, os.path.abspath(__file__), "--root", root]
    if allow:
        command += ["--allow", allow]
    proc = subprocess.run(command + list(extra) + objects, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    return proc.returncode, proc.stdout, proc.stderr


def self_test():
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        print("self-test: no C compiler (%s)" % cc, file=sys.stderr)
        return 1
    failures = []

    def expect(condition, what, output):
        if not condition:
            failures.append("%s\n--- output ---\n%s" % (what, output.rstrip()))

    with tempfile.TemporaryDirectory(prefix="check_layers.") as tmp:
        bad = os.path.join(tmp, "bad")
        try:
            objects = build_fake_tree(bad, SELF_TEST_FILES, cc)
        except subprocess.CalledProcessError as e:
            print("self-test: cannot compile the fake tree: %s" % e, file=sys.stderr)
            return 1
        status, out, err = run_cli(bad, objects)
        both = out + err
        expect(status == 1, "a tree with violations must fail (exit %d)" % status, both)
        expect("upward dependency: src/base/a.c uses core_b, defined in src/core/b.c "
               "(core is above base)" in err, "the upward call base -> core is not reported", both)
        expect("upward dependency: src/base/a.c uses core_tls, defined in src/core/b.c "
               "(core is above base)" in err, "the upward thread-local use is not reported", both)
        expect("sibling dependency: src/net/n.c uses disk_k, defined in src/disk/k.c "
               "(disk is a sibling of net)" in err, "the sibling call net -> disk is not reported",
               both)
        expect("cycle between 2 files: src/core/c.c -> src/core/d.c (core_d) -> src/core/c.c (core_c)"
               in err, "the cycle c.c <-> d.c is not reported with its path", both)
        expect('upward include: src/base/inc.c:1 includes "core/x.h" (core is above base)' in err,
               "base including a core header is not reported", both)
        expect('private header outside the library: examples/ex.c:1 includes "core/x.h"' in err,
               "examples/ including a private header is not reported", both)
        expect('include private headers with their layer: src/core/noprefix.c:1 includes "x.h" '
               '(write "core/x.h")' in err, "an include without its layer is not reported", both)
        for innocent in ("good.c", "util.c", "prog.c", "test_x.c"):
            expect(innocent not in err, "%s breaks no rule but is reported" % innocent, both)

        # The allow-list accepts the cycle, and only the cycle.
        allow = os.path.join(tmp, "layers.allow")
        with open(allow, "w") as f:
            f.write("# the self-test's cycle\n\nsrc/core/c.c src/core/d.c  # why\n")
        status, out, err = run_cli(bad, objects, allow)
        expect(status == 1 and "cycle between" not in err and "upward dependency" in err,
               "an allowed cycle is still reported, or the rest is not", out + err)

        # A clean tree passes, with the cycle allowed; without the allow-list
        # the cycle alone fails it.
        clean = os.path.join(tmp, "clean")
        clean_objects = build_fake_tree(clean, {k: SELF_TEST_FILES[k] for k in SELF_TEST_CLEAN}, cc)
        status, out, err = run_cli(clean, clean_objects, allow)
        expect(status == 0 and err == "", "a clean tree fails (exit %d)" % status, out + err)
        expect(out.strip() == "layers: 6 files, 3 layers, 3 dependencies, no upward use, "
               "1 allowed cycle", "unexpected summary for the clean tree", out + err)
        status, out, err = run_cli(clean, clean_objects)
        expect(status == 1 and "cycle between 2 files" in err,
               "a cycle not in the allow-list passes", out + err)

        # A stale allow-list line warns but does not fail.
        with open(allow, "a") as f:
            f.write("src/core/b.c src/core/good.c\n")
        status, out, err = run_cli(clean, clean_objects, allow, ["--graph"])
        expect(status == 0 and "warning: stale allow-list entry" in err,
               "a stale allow-list entry is not a warning", out + err)
        expect("core -> base: 3 symbols in 1 file pair" in out, "--graph is wrong", out + err)

    for failure in failures:
        print("self-test FAILED: " + failure, file=sys.stderr)
    if failures:
        return 1
    print("self-test: check_layers.py finds every violation and passes a clean tree")
    return 0


# ---------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(
        description="Check that sea's layers (src/<layer>/) use only lower layers, "
                    "and that files form no unlisted cycles.")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the project's source directory (default: this script's ..)")
    parser.add_argument("--allow", help="allow-list of cycles (default: <root>/src/layers.allow)")
    parser.add_argument("--nm", default=os.environ.get("NM", "nm"), help="the nm to use")
    parser.add_argument("--graph", action="store_true",
                        help="also print how many symbols each layer uses from each other")
    parser.add_argument("--self-test", action="store_true",
                        help="check this checker on a small fake tree")
    parser.add_argument("objects", nargs="*", help="the layers' object files")
    args = parser.parse_args(argv)
    # CMake may hand $<TARGET_OBJECTS:...> over as one ;-separated argument.
    args.objects = [o for arg in args.objects for o in arg.split(";") if o]

    if args.self_test:
        return self_test()
    if not args.objects:
        parser.error("no object files given")
    if shutil.which(args.nm) is None:
        print("check_layers: %s not found (install binutils)" % args.nm, file=sys.stderr)
        return 2
    allow = args.allow or os.path.join(args.root, "src", "layers.allow")
    if args.allow and not os.path.isfile(args.allow):
        print("check_layers: no allow-list %s" % args.allow, file=sys.stderr)
        return 2

    try:
        errors, warnings, summary, graph_lines = check(args.root, args.objects, allow,
                                                       args.nm, args.graph)
    except RuntimeError as e:
        print("check_layers: %s" % e, file=sys.stderr)
        return 2
    for line in graph_lines:
        print(line)
    for line in warnings:
        print("warning: " + line, file=sys.stderr)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        print("%s: %s" % (summary, plural(len(errors), "problem")), file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
