#!/usr/bin/env bash
# One fuzz target as a CTest test (fuzz/CMakeLists.txt, docs/fuzzing.md): replays every file of
# fuzz/regressions/NAME/ (each one input that once crashed, hung or leaked), then fuzzes for
# REHEARSE_FUZZ_SECONDS (default 20) from the seed corpus fuzz/corpus/NAME/ with the dictionary
# fuzz/dict/NAME.dict. New inputs go to BUILD/corpus/NAME/ (kept between runs, never into the
# source tree); a crash, hang or leak fails the test and leaves its input in BUILD/artifacts/NAME/.
# Usage: run.sh BINARY NAME SOURCE_DIR BUILD_DIR
set -euo pipefail
binary=$1 name=$2 source=$3 build=$4
seconds=${REHEARSE_FUZZ_SECONDS:-20}
mkdir -p "$build/corpus/$name" "$build/artifacts/$name"
flags=(-rss_limit_mb=1024 -timeout=5 -dict="$source/fuzz/dict/$name.dict" -artifact_prefix="$build/artifacts/$name/")

shopt -s nullglob
regressions=("$source/fuzz/regressions/$name"/*)
if [ ${#regressions[@]} -gt 0 ]; then
  echo "fuzz.$name: replaying ${#regressions[@]} regression input(s)"
  "$binary" "${flags[@]}" "${regressions[@]}"
fi

echo "fuzz.$name: fuzzing for ${seconds} s"
exec "$binary" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
  "$build/corpus/$name" "$source/fuzz/corpus/$name"
