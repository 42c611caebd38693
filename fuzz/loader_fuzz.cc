// libFuzzer target: a scenario file's bytes, loaded as `rehearse run FILE` loads them
// (cli/runs.cc, load_or_report): the loader, then the migration plan's compilation.
// Properties: no crash, hang, leak or sanitizer report; a load that fails says why (at least
// one error, each with a message and a line inside the file).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/plan.h"
#include "fuzz/fuzz_check.h"
#include "scenarios/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const rehearse::LoadResult loaded = rehearse::load_scenario_text(text, "fuzz.yaml");
  if (!loaded.ok()) {
    rehearse::fuzz::check(!loaded.errors.empty(), "a scenario that does not load has an error");
    const long lines = static_cast<long>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const rehearse::ScenarioError& error : loaded.errors) {
      rehearse::fuzz::check(!error.message.empty(), "every load error has a message", error.to_string());
      rehearse::fuzz::check(error.line >= 0 && error.line <= lines, "every load error's line is in the file", error.to_string());
    }
    return 0;
  }
  (void)rehearse::compile_plan(*loaded.scenario);
  return 0;
}
