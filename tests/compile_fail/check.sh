#!/bin/sh
# check.sh COMPILER FILE [FLAGS...] - compiles FILE as a user would
# (-std=c17 -Wall -Wextra -Wpedantic -Wshadow -Werror) and checks the outcome:
# ok.c must compile cleanly; any other case must fail to compile with a
# message matching the extended regular expression on its "expect:" line.
# Prints PASS or FAIL with the reason.
cc=$1
file=$2
shift 2
out=$("$cc" -std=c17 -Wall -Wextra -Wpedantic -Wshadow -Werror -c -o /dev/null "$@" "$file" 2>&1)
rc=$?
if [ "$(basename "$file")" = ok.c ]; then
    if [ $rc -eq 0 ] && [ -z "$out" ]; then echo PASS; exit 0; fi
    printf '%s\n' "$out"; echo "FAIL: ok.c did not compile cleanly"; exit 1
fi
expect=$(sed -n 's|^/\* expect: \(.*\) \*/$|\1|p' "$file")
if [ -z "$expect" ]; then echo "FAIL: $file has no expect: line"; exit 1; fi
if [ $rc -eq 0 ]; then echo "FAIL: $file compiled, and must not"; exit 1; fi
if printf '%s\n' "$out" | grep -qE -- "$expect"; then echo PASS; exit 0; fi
printf '%s\n' "$out" | head -20
echo "FAIL: no message matching: $expect"
exit 1
