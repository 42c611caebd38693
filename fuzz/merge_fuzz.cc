// libFuzzer target: one input file of `rehearse merge` (the `sweep --json` output of a shard),
// read as `rehearse merge` reads it (sweep/merge_input.h).
// Properties: no crash, hang, leak or sanitizer report; a rejected file is named in the message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "sweep/merge_input.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::variant<rehearse::sweep::MergeInput, std::string> input = rehearse::sweep::parse_merge_input(text, "shard.json");
  if (const auto* problem = std::get_if<std::string>(&input)) {
    rehearse::fuzz::check(problem->rfind("shard.json: ", 0) == 0, "a rejected merge input is named", *problem);
    return 0;
  }
  const rehearse::sweep::MergeInput& merged = std::get<rehearse::sweep::MergeInput>(input);
  rehearse::fuzz::check(merged.file == "shard.json", "the merge input keeps its file name");
  // What `merge` does next with each input: a copy into its list, and the comparison of the
  // covered seeds of two inputs.
  const rehearse::sweep::MergeInput copy = merged;
  rehearse::fuzz::check(copy.seeds == merged.seeds && copy.shard == merged.shard, "a copied merge input compares equal");
  return 0;
}
