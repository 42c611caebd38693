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

// The process's one Graphviz context, created on first use and freed at exit. Graphviz 2.4x
// keeps font-metric caches in static storage that a freed context leaves dangling, so
// creating and freeing a context per figure reads freed memory on the next layout.
GVC_t* shared_context() {
  struct Context {
    GVC_t* context = gvContext();
    ~Context() {
      if (context != nullptr) gvFreeContext(context);
    }
  };
  static Context holder;
  return holder.context;
}

// Owns one graph and its layout; frees the layout, then the graph.
class Rendering {
 public:
  explicit Rendering(GVC_t* context) : context_(context) {}
  ~Rendering() {
    if (graph_ == nullptr) return;
    if (laid_out_) gvFreeLayout(context_, graph_);
    agclose(graph_);
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
  Rendering rendering(shared_context());
  return rendering.run(dot_source);
}

std::string inline_svg(const std::string& svg) {
  const auto start = svg.find("<svg");
  return start == std::string::npos ? svg : svg.substr(start);
}

}  // namespace rehearse::reports
