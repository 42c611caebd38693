// render_svg() of reports/graphviz.h. The Graphviz headers are included with their warnings
// silenced (they are C headers that do not compile cleanly under -Wpedantic).
#include "reports/graphviz.h"

#include <mutex>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#pragma GCC diagnostic pop

namespace rehearse::reports {

namespace {

std::mutex graphviz_mutex;
std::string graphviz_errors;  // guarded by graphviz_mutex

int collect_error(char* message) {
  if (message != nullptr) graphviz_errors += message;
  return 0;
}

// Owns a context and a graph; frees the layout, the graph and the context in that order.
class Rendering {
 public:
  Rendering() : context_(gvContext()) {}
  ~Rendering() {
    if (graph_ != nullptr) {
      if (laid_out_) gvFreeLayout(context_, graph_);
      agclose(graph_);
    }
    if (context_ != nullptr) gvFreeContext(context_);
  }
  Rendering(const Rendering&) = delete;
  Rendering& operator=(const Rendering&) = delete;

  Result<std::string> run(const std::string& dot_source) {
    if (context_ == nullptr) return Status::invalid("graphviz: no context");
    graph_ = agmemread(dot_source.c_str());
    if (graph_ == nullptr) return Status::invalid("graphviz: the DOT source does not parse: " + graphviz_errors);
    if (gvLayout(context_, graph_, "dot") != 0) return Status::invalid("graphviz: dot layout failed: " + graphviz_errors);
    laid_out_ = true;
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(context_, graph_, "svg", &data, &length) != 0 || data == nullptr) {
      if (data != nullptr) gvFreeRenderData(data);
      return Status::invalid("graphviz: svg rendering failed: " + graphviz_errors);
    }
    std::string svg(data, length);
    gvFreeRenderData(data);
    return svg;
  }

 private:
  GVC_t* context_ = nullptr;
  Agraph_t* graph_ = nullptr;
  bool laid_out_ = false;
};

}  // namespace

Result<std::string> render_svg(const std::string& dot_source) {
  std::lock_guard<std::mutex> lock(graphviz_mutex);
  graphviz_errors.clear();
  agseterr(AGERR);  // warnings (e.g. about cluster sizes) are not errors
  agseterrf(collect_error);
  Rendering rendering;
  return rendering.run(dot_source);
}

std::string inline_svg(const std::string& svg) {
  const auto start = svg.find("<svg");
  return start == std::string::npos ? svg : svg.substr(start);
}

}  // namespace rehearse::reports
