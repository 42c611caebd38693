// Parsing a column's `gen` (core/gen.h).
#include "core/gen.h"

#include <charconv>
#include <optional>
#include <string_view>

namespace rehearse {

namespace {

std::optional<std::int64_t> whole_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

GenForm parse_gen(const std::string& gen) {
  GenForm form;
  if (gen.empty()) return form;
  form.kind = GenForm::Kind::invalid;
  if (const auto dots = gen.find(".."); dots != std::string::npos) {
    const auto low = whole_integer(std::string_view(gen).substr(0, dots));
    const auto high = whole_integer(std::string_view(gen).substr(dots + 2));
    if (low && high && *low <= *high) {
      form.kind = GenForm::Kind::range;
      form.low = *low;
      form.high = *high;
    }
    return form;
  }
  if (gen == "email") form.kind = GenForm::Kind::email;
  if (gen == "uuid") form.kind = GenForm::Kind::uuid;
  if (gen.size() > 8 && gen.rfind("one_of(", 0) == 0 && gen.back() == ')') {
    std::string current;
    const std::string_view inside = std::string_view(gen).substr(7, gen.size() - 8);
    for (std::size_t i = 0; i <= inside.size(); ++i) {
      if (i == inside.size() || inside[i] == ',') {
        if (current.empty()) return form;  // an empty choice: invalid
        form.choices.push_back(current);
        current.clear();
      } else if (inside[i] != ' ') {
        current += inside[i];
      }
    }
    form.kind = GenForm::Kind::one_of;
  }
  return form;
}

}  // namespace rehearse
