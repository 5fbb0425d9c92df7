#!/usr/bin/env bash
# test-install.sh BUILD_DIR PROGRAM.c - installs sea from BUILD_DIR into a
# scratch prefix and builds PROGRAM.c out of tree the way the tutorial does:
#   cc prog.c $(pkg-config --cflags --libs sea)
# then runs it.  Prints the program's output.
set -euo pipefail
build=$1
prog=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(dirname "$(find "$tmp/prefix" -name sea.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
cc "$prog" $(pkg-config --cflags --libs sea) -o "$tmp/prog"
"$tmp/prog" --blocked-reactor-notify-ms=0 # its output is the test: no stall report on a loaded machine
