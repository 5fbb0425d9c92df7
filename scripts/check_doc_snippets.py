#!/usr/bin/env python3
"""check_doc_snippets.py - every C snippet in the docs compiles as a user's code.

    check_doc_snippets.py --cc CC --include DIR [--root DIR] [FILE.md ...]

Finds each fenced ```c block in README.md and docs/*.md (or the files
given) and compiles it with CC -std=c17 -Wall -Wextra -Wpedantic -Werror
-fsyntax-only against the public headers in DIR, the flags the issue asks a
user's code to pass.  Unused static functions are allowed (a snippet shows
a function without its caller).  A comment on the line just before the fence
says how to read the block:

    (none)                          a translation unit; <sea/sea.h> is
                                    included first if the block includes nothing
    <!-- file: examples/hello.c --> the block is that file's code, below its
                                    header comment, verbatim (the file itself
                                    is built and tested with the examples)
    <!-- prelude: TEXT -->          TEXT (declarations the snippet uses) goes
                                    before the block; \n in TEXT is a new line
    <!-- body -->                   statements: compiled inside
                                    "static sea_future snippet(void) {...}"
                                    (the prelude, if any, before that)
    <!-- not compiled: REASON -->   skipped (pseudo-code, a shell session, a
                                    C++ comparison); the reason is required

Prints one line per failing block (file:line and the compiler's first
errors) and exits 1 if any failed, else prints how many compiled and exits 0.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

MARK = re.compile(r'^<!--\s*(file|prelude|body|not compiled)\s*:?\s*(.*?)\s*-->\s*$')


def blocks(path):
    """Yields (line number, marks dict, code) for each ```c block."""
    lines = open(path, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        if lines[i].strip() == '```c':
            start = i + 1
            marks = {}
            j = i - 1
            while j >= 0 and MARK.match(lines[j].strip()):
                m = MARK.match(lines[j].strip())
                marks[m.group(1)] = m.group(2)
                j -= 1
            k = start
            while k < len(lines) and lines[k].strip() != '```':
                k += 1
            yield start, marks, '\n'.join(lines[start:k]) + '\n'
            i = k + 1
        else:
            i += 1


def file_code(path):
    """A source file's text below its header comment (and the blank line after it)."""
    text = open(path, encoding='utf-8').read()
    if text.startswith('/*'):
        end = text.index('*/') + 2
        text = text[end:].lstrip('\n')
    return text


def compile_one(cc, include, source):
    with tempfile.NamedTemporaryFile('w', suffix='.c', delete=False) as f:
        f.write(source)
        name = f.name
    try:
        p = subprocess.run([cc, '-std=c17', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-Wno-unused-function',
                            '-fsyntax-only', '-I', include, name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout.replace(name, '<snippet>')
    finally:
        os.unlink(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cc', default='cc')
    ap.add_argument('--include', required=True)
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    files = a.files or [os.path.join(a.root, 'README.md')] + sorted(glob.glob(os.path.join(a.root, 'docs', '*.md')))
    failed = compiled = skipped = 0
    for path in files:
        rel = os.path.relpath(path, a.root)
        for line, marks, code in blocks(path):
            where = f'{rel}:{line}'
            if 'not compiled' in marks:
                if not marks['not compiled']:
                    print(f'{where}: "not compiled" needs a reason')
                    failed += 1
                skipped += 1
                continue
            if 'file' in marks:
                want = file_code(os.path.join(a.root, marks['file']))
                if code != want:
                    print(f'{where}: the block differs from {marks["file"]} (below its header comment)')
                    failed += 1
                continue  # the file is compiled by the build itself
            prelude = marks.get('prelude', '').replace('\\n', '\n')
            head = '' if re.search(r'^\s*#\s*include', code, re.M) else '#include <sea/sea.h>\n'
            if 'body' in marks:
                source = f'{head}{prelude}\nstatic sea_future snippet(void) {{\n{code}\n    return sea_ready();\n}}\n'
            else:
                source = f'{head}{prelude}\n{code}'
            rc, out = compile_one(a.cc, a.include, source)
            if rc != 0:
                print(f'{where}: does not compile:\n' + '\n'.join('    ' + l for l in out.splitlines()[:12]))
                failed += 1
            else:
                compiled += 1
    if failed:
        print(f'{failed} snippet(s) failed')
        return 1
    print(f'{compiled} snippets compiled, {skipped} not compiled (with reasons), file blocks match their files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
