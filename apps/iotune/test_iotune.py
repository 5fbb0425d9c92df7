#!/usr/bin/env python3
"""sea-iotune's test: a short run on a scratch directory under /var/tmp.

    test_iotune.py SEA_IOTUNE [sea options...]

Runs `sea-iotune --duration 0.2 --file-size 32M` on a fresh directory, checks
that it exits with 0, that the properties file it wrote has Seastar's layout
(a "disks:" list whose first entry has a mountpoint and four positive
numbers), that its output names them, and that sea itself loads the file:
`sea-iotune --io-properties-file FILE --show-model` prints the figures sea
read, which must be the file's.  Then that a model is refused while
measuring, and that a missing directory fails cleanly.  Nothing here depends
on the disk's speed; the scratch directory is removed at the end.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

KEYS = ("read_iops", "read_bandwidth", "write_iops", "write_bandwidth")


def fail(msg, out=""):
    print("FAIL:", msg)
    if out:
        print(out)
    sys.exit(1)


def run(cmd, timeout=100):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def parse(text):
    """The first disk's figures, parsed as Seastar's io-properties YAML (without a YAML library)."""
    lines = [l.rstrip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    if not lines or lines[0] != "disks:":
        fail("the file does not start with 'disks:'", text)
    if not re.match(r"^\s+- mountpoint: /\S*$", lines[1]):
        fail("the first disk has no mountpoint", text)
    figures = {}
    for l in lines[2:]:
        m = re.match(r"^\s+(\w+): (\S+)$", l)
        if not m:
            fail("not a 'key: value' line: %r" % l, text)
        figures[m.group(1)] = float(m.group(2))
    for k in KEYS:
        if k not in figures:
            fail("no %s" % k, text)
        if not figures[k] > 0:
            fail("%s is not positive" % k, text)
    return figures


def main():
    tool, extra = sys.argv[1], sys.argv[2:]
    base = "/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir()
    d = tempfile.mkdtemp(prefix="sea-iotune-test-", dir=base)
    try:
        out_file = os.path.join(d, "io_properties.yaml")
        rc, out = run([tool, *extra, "--duration", "0.2", "--file-size", "32M", "--evaluation-directory", d,
                       "--properties-file", out_file])
        if rc != 0:
            fail("sea-iotune exited with %d" % rc, out)
        if not os.path.exists(out_file):
            fail("no properties file written", out)
        text = open(out_file).read()
        figures = parse(text)
        for what in ("sequential write", "sequential read", "random read", "random write", "wrote " + out_file):
            if what not in out:
                fail("the output does not mention %r" % what, out)
        left = [f for f in os.listdir(d) if f != "io_properties.yaml"]
        if left:
            fail("scratch files left behind: %s" % left, out)

        # sea loads the file it wrote, and reads the same figures.
        rc, out = run([tool, *extra, "--io-properties-file", out_file, "--show-model"])
        if rc != 0:
            fail("sea did not start with --io-properties-file %s (exit %d)" % (out_file, rc), out)
        shown = dict((m.group(1), float(m.group(2))) for m in re.finditer(r"^(\w+): (\S+)$", out, re.M))
        for k in KEYS:
            # The same number, whichever way each side prints it (a whole number, or all 17 digits).
            if k not in shown or abs(shown[k] - figures[k]) > 1e-9 * figures[k] + 0.5:
                fail("sea read %s = %s, the file says %s" % (k, shown.get(k), figures[k]), out)

        # Measuring under a model is refused; a missing directory fails with a message, not a crash.
        rc, out = run([tool, *extra, "--io-properties-file", out_file, "--evaluation-directory", d, "--duration",
                       "0.05"])
        if rc != 1 or "throttle" not in out:
            fail("a run under a model should be refused (exit %d)" % rc, out)
        rc, out = run([tool, *extra, "--evaluation-directory", os.path.join(d, "missing"), "--duration", "0.05"])
        if rc != 1 or "missing" not in out:
            fail("a missing directory should fail with its name (exit %d)" % rc, out)
        # A file sea cannot parse stops start-up (exit 2), naming the file.
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as fp:
            fp.write("disks:\n  - mountpoint: /\n    read_iops: -1\n")
        rc, out = run([tool, *extra, "--io-properties-file", bad, "--show-model"])
        if rc != 2 or "bad.yaml" not in out:
            fail("a malformed model should stop start-up with exit 2 (exit %d)" % rc, out)
        print("ok:", ", ".join("%s %.0f" % (k, figures[k]) for k in KEYS))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
