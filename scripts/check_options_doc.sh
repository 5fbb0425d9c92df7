#!/usr/bin/env bash
# check_options_doc.sh PROGRAM DOC - every standard option a sea program's
# --help lists is described in DOC (docs/options.md), and the other way round:
# the options are declared in the modules' tables, and this keeps the one
# page that lists them from going stale.
set -euo pipefail
program=$1
doc=$2
# The option column of --help: the first 36 characters of the lines that start an option.
helped=$("$program" --help | sed -n '/^Standard options:/,/^$/p' | grep '^  -' | cut -c1-36 |
         grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
documented=$(sed -n '/^## Standard options/,/^## /p' "$doc" | grep -o -- '`-[-a-zA-Z0-9_ =|\\]*`' |
             grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
missing=$(comm -23 <(echo "$helped") <(echo "$documented"))
extra=$(comm -13 <(echo "$helped") <(echo "$documented"))
status=0
if [ -n "$missing" ]; then
  echo "in --help but not in $doc:" $missing
  status=1
fi
if [ -n "$extra" ]; then
  echo "in $doc but not in --help:" $extra
  status=1
fi
[ $status -eq 0 ] && echo "options: $(echo "$helped" | wc -l) standard options, all documented"
exit $status
