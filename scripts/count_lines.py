#!/usr/bin/env python3
# count_lines.py - counts the lines of the Seastar tutorial's programs as sea
# writes them (examples/NAME.c in continuation style, examples/fiber_NAME.c in
# fiber style) and sets them beside the C++ line counts of the tutorial's own
# code.  The table is docs/lines.md's, and CTest (docs.lines) checks that it is
# current:
#
#   scripts/count_lines.py                          print the table
#   scripts/count_lines.py --write docs/lines.md    rewrite the table in the file
#   scripts/count_lines.py --check docs/lines.md    exit 1 if the file's table differs
#
# A line counts when it holds something other than blanks, an #include or a
# comment: /* ... */ blocks (multi-line ones and the file's header comment
# included) and // comments are removed first, then blank lines and #include
# lines are dropped.  A line holding code and a trailing comment counts.
# Comment markers inside string and character literals are not comments.
#
# The table is the text between the two markers below in the Markdown file.
# Exit status: 0 when all is well; 1 when --check finds the table stale;
# 2 when it cannot run (a missing example, a file without the markers).
# Standard library only; runs with any python3 >= 3.9.

import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

BEGIN = "<!-- count_lines: begin -->"
END = "<!-- count_lines: end -->"

# The C++ line counts, counted by hand from the Seastar tutorial (doc/tutorial.md,
# "Asynchronous Programming with Seastar") by the same rule: non-blank lines,
# without #includes and comments.  Where the tutorial shows only a function
# f(), the 4 lines of a minimal app_template main that runs it are added:
#     int main(int argc, char** argv) {
#         seastar::app_template app;
#         return app.run(argc, argv, f);
#     }
# The tutorial's servers have no stop: their accept loops run until the
# process is killed ("Shutting down cleanly" is a TODO there).
# Order: the order of the tutorial, and of the table.
CPP_LINES = [
    # §"Getting started": the hello-world program, its main included
    ("hello", 7),
    # §"Threads and memory": the program printing smp::count, its main included
    ("smp_count", 7),
    # §"Introducing futures and continuations": the first sleep program, its main included
    ("sleep", 10),
    # §"Introducing futures and continuations": f() with three sleeps (7) + main (4)
    ("parallel_sleeps", 11),
    # §"Introducing futures and continuations": slow() returning future<int> (4) + f() (5) + main (4)
    ("slow", 13),
    # §"Ready futures": fast() (3) + f() (5) + main (4)
    ("fast", 12),
    # §"Capturing state in continuations": incr() (4) + f() (5) + main (4)
    ("incr", 13),
    # §"Limiting parallelism of loops": the published loop ending after 456 iterations (12)
    # + the section's slow() (4) + main (4)
    ("semaphore_loop", 20),
    # §"Limiting parallelism with semaphores": g() with wait/finally/signal (8) + slow() (4)
    # + a driver making the calls (5) + main (4)
    ("semaphore_g", 21),
    # §"Limiting parallelism with semaphores": g() with with_semaphore() (6) + slow() (4)
    # + driver (5) + main (4)
    ("with_semaphore", 19),
    # §"Shutting down a service with a gate": slow(int) 6 and f() with the gate 15, + main 4
    ("gate", 25),
    # §"Introducing Seastar's network stack": the canned-response server, + main (the lower
    # of the tutorial versions found; another gives about 25)
    ("canned_server", 23),
    # §"Introducing Seastar's network stack": the echo server (handle_connection and its accept
    # loop); the lower of the tutorial versions found (another gives about 43 with main)
    ("echo_server", 36),
]

INCLUDE = re.compile(r"^\s*#\s*include\b")


def strip_comments(text):
    """Returns text with its comments removed: a /* */ block becomes one space
    (its newlines kept, so lines stay where they were), a // comment is cut
    to the end of its line.  String and character literals are copied as
    they are, escapes included, so a comment marker inside one stays."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(" ")
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c == "/" and nxt == "/":
            # To the end of the line; a backslash-newline continues the comment.
            j = i + 2
            while j < n and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n and text[j + 1] == "\n":
                    out.append("\n")
                    j += 2
                    continue
                j += 1
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n) if j < n and text[j] == c else j
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def count_lines(path):
    """The lines of a C file that count: non-blank once comments are removed,
    and not an #include."""
    with open(path, encoding="utf-8") as f:
        code = strip_comments(f.read())
    return sum(1 for line in code.split("\n") if line.strip() and not INCLUDE.match(line))


def ratio(a, b):
    return "%.2f" % (a / b)


def table():
    """The Markdown table, as a list of lines."""
    lines = [
        "| program | C++ (Seastar tutorial) | sea fiber | sea continuation | fiber ÷ C++ | continuation ÷ C++ |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    total_cpp = total_fiber = total_cont = 0
    for name, cpp in CPP_LINES:
        fiber = count_lines(os.path.join(EXAMPLES, "fiber_%s.c" % name))
        cont = count_lines(os.path.join(EXAMPLES, "%s.c" % name))
        total_cpp += cpp
        total_fiber += fiber
        total_cont += cont
        lines.append("| `%s` | %d | %d | %d | %s | %s |"
                     % (name, cpp, fiber, cont, ratio(fiber, cpp), ratio(cont, cpp)))
    lines.append("| **Total** | **%d** | **%d** | **%d** | **%s** | **%s** |"
                 % (total_cpp, total_fiber, total_cont,
                    ratio(total_fiber, total_cpp), ratio(total_cont, total_cpp)))
    return lines


def split_doc(path):
    """Returns (before, table lines, after) of the Markdown file, split at the
    markers; before ends with the begin marker's line, after starts with the
    end marker's."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        b = next(i for i, l in enumerate(lines) if l.strip() == BEGIN)
        e = next(i for i, l in enumerate(lines) if l.strip() == END and i > b)
    except StopIteration:
        raise ValueError("%s: no table between %s and %s" % (path, BEGIN, END)) from None
    return lines[:b + 1], lines[b + 1:e], lines[e:]


def main():
    ap = argparse.ArgumentParser(description="Lines of the tutorial's programs, C++ and sea.")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", metavar="FILE", help="rewrite the table between the markers in FILE")
    mode.add_argument("--check", metavar="FILE", help="exit 1 if the table in FILE is not current")
    args = ap.parse_args()
    try:
        sys.stdout.reconfigure(encoding="utf-8")
    except (AttributeError, ValueError):
        pass

    try:
        computed = table()
    except OSError as e:
        print("count_lines.py: %s" % e, file=sys.stderr)
        return 2

    if args.write or args.check:
        path = args.write or args.check
        try:
            before, current, after = split_doc(path)
        except (OSError, ValueError) as e:
            print("count_lines.py: %s" % e, file=sys.stderr)
            return 2
        # The table sits between the markers with a blank line on each side.
        wanted = [""] + computed + [""]
        if args.write:
            if current != wanted:
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(before + wanted + after))
            print("%s: table %s" % (path, "unchanged" if current == wanted else "rewritten"))
            return 0
        if current != wanted:
            sys.stdout.write("%s: the line-count table is not current; "
                             "run scripts/count_lines.py --write %s\n" % (path, path))
            for line in difflib.unified_diff(current, wanted, path + " (in the file)",
                                             path + " (computed)", lineterm=""):
                sys.stdout.write(line + "\n")
            return 1
        print("%s: line-count table current (%s)" % (path, computed[-1]))
        return 0

    print("\n".join(computed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
