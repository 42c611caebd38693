// UTF-8 well-formedness, as PostgreSQL's UTF8 encoding checks it: no overlong forms, no
// surrogates, nothing beyond U+10FFFF.

#pragma once

#include <cstddef>
#include <string_view>

namespace rehearse {

// The byte offset of the first byte that does not start a well-formed UTF-8 sequence, or
// std::string_view::npos when the whole text is well-formed.
std::size_t invalid_utf8_offset(std::string_view text);

}  // namespace rehearse
