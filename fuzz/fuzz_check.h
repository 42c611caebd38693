// Shared by the libFuzzer targets of fuzz/ (docs/fuzzing.md): the check that turns a broken
// property of an input's handling into a crash libFuzzer reports and minimizes.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace rehearse::fuzz {

// Stops the run with `what` when `condition` is false; libFuzzer saves the input as a crash.
inline void check(bool condition, const char* what, const std::string& detail = "") {
  if (condition) return;
  std::fprintf(stderr, "fuzz property violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace rehearse::fuzz
