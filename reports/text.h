// Small text helpers shared by the report writers: counts and shares as people read them,
// escaping for HTML/XML and Graphviz DOT, and shell quoting. Times and durations are written by
// core/duration.h (DurationStyle::clock_spaced and rounded_spaced).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace rehearse::reports {

// "1,234,567".
std::string count_text(std::int64_t value);
// "0.12%" for a share in [0, 1].
std::string percent_text(double share);
// Escapes & < > " ' for HTML and XML text and attributes (SVG, the HTML report, JUnit); a
// character XML 1.0 cannot carry at all (a control character other than tab, newline and
// carriage return) becomes '?'.
std::string xml_escape(std::string_view text);
// A DOT double-quoted string, quotes included; "\n" in `text` becomes a centred line break.
std::string dot_quote(const std::string& text);
// Quotes `word` for a POSIX shell when it holds anything but [A-Za-z0-9_./:@%+=,-].
std::string shell_quote(const std::string& word);
// Splits "a,b, c" at commas and trims spaces; empty parts are dropped.
std::vector<std::string> split_list(const std::string& text);
// `text` cut to `limit` characters with "..." when longer.
std::string shorten(const std::string& text, std::size_t limit);
// `text` with the spaces that end lines of at most `width` characters made "\n" (a longer word
// stays whole, on a line of its own).
std::string wrap_words(const std::string& text, std::size_t width);

}  // namespace rehearse::reports
