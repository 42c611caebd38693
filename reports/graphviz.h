// Graphviz through its C library (libgvc / libcgraph): lays a DOT graph out with `dot` and
// renders it to SVG in memory. Nothing is shelled out; every Graphviz object is freed.
#pragma once

#include <string>

#include "core/status.h"

namespace rehearse::reports {

// The SVG document (with its XML prologue) of `dot_source` laid out by `dot`. Returns invalid,
// with Graphviz's message, when the source does not parse or cannot be laid out or rendered.
// Graphviz is not thread-safe: calls are serialised.
Result<std::string> render_svg(const std::string& dot_source);

// `svg` without what comes before its <svg element (XML prologue, DOCTYPE, comments), for
// inlining into HTML.
std::string inline_svg(const std::string& svg);

}  // namespace rehearse::reports
