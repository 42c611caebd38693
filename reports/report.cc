// write_report() of reports/report.h: derives the facts, lays the figures out, builds the
// document and writes every file of the report directory.
#include "reports/report.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/lint.h"
#include "reports/graphviz.h"
#include "reports/run_json.h"
#include "reports/sections.h"
#include "reports/trace_events.h"

namespace rehearse::reports {

namespace {

// YYYY-MM-DD of SOURCE_DATE_EPOCH when it is set to a number, else of the current UTC time.
std::string report_date() {
  std::time_t now = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
    char* end = nullptr;
    const long long seconds = std::strtoll(epoch, &end, 10);
    if (end != epoch && *end == '\0' && seconds >= 0) now = static_cast<std::time_t>(seconds);
  }
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:04d}-{:02d}-{:02d}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

Status write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (out) out.close();
  if (!out) return Status::unavailable(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  return Status::ok();
}

Status make_directory(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return Status::unavailable(fmt::format("cannot create {}: {}", directory, error.message()));
  if (!std::filesystem::is_directory(directory, error)) {
    return Status::unavailable(fmt::format("cannot write into {}: not a directory", directory));
  }
  return Status::ok();
}

std::vector<ActionItem> unverified_proposals(const ReportInput& input) {
  std::vector<ActionItem> items;
  for (auto& [item, scenario] : propose_action_items(input.scenario, input.result)) items.push_back(item);
  return items;
}

Document build_document(const ReportContext& context) {
  Document document;
  add_header(document, context);
  add_summary(document, context);
  add_impact(document, context);
  add_trigger_and_root_cause(document, context);
  add_detection(document, context);
  add_resolution(document, context);
  add_contributing_factors(document, context);
  add_action_items(document, context);
  add_timeline(document, context);
  add_figures(document, context);
  return document;
}

Status render_figures(ReportContext& context) {
  const ReportInput& input = context.input;
  context.spacetime = spacetime_dot(input.scenario, input.result, context.facts);
  Result<std::string> spacetime = render_svg(context.spacetime.dot);
  if (!spacetime.is_ok()) return spacetime.status();
  Result<std::string> violation = render_svg(violation_dot(input.scenario, input.result, context.facts));
  if (!violation.is_ok()) return violation.status();
  context.spacetime_svg = spacetime.value();
  context.violation_svg = violation.value();
  context.chart_svg = chart_svg(input.scenario, input.result, context.facts);
  return Status::ok();
}

}  // namespace

Status write_report(const ReportInput& input, const std::string& directory) {
  REHEARSE_ASSERT(!input.scenario_yaml.empty());
  if (Status made = make_directory(directory); !made.is_ok()) return made;
  const RunFacts facts = derive_facts(input.scenario, input.result);
  ReportContext context{input, facts, lint(input.scenario), input.action_items};
  context.date = report_date();
  if (context.action_items.empty()) {
    context.action_items = unverified_proposals(input);
    context.action_items_proposed = !context.action_items.empty();
  }
  if (Status rendered = render_figures(context); !rendered.is_ok()) return rendered;
  const Document document = build_document(context);
  const std::string title = fmt::format("Postmortem: {} seed {}", input.scenario.name, input.seed);
  const std::pair<const char*, std::string> files[] = {
      {"report.md", document.markdown()},
      {"report.html", document.html(title)},
      {"spacetime.svg", context.spacetime_svg},
      {"violation.svg", context.violation_svg},
      {"trace.json", trace_json(input.result, facts).dump() + "\n"},
      {"history.jsonl", history_lines(input.result.history)},
      {"result.json", run_object(input.result).dump(2) + "\n"},
      {"scenario.yaml", input.scenario_yaml},
      {"chart.svg", context.chart_svg},
  };
  for (const auto& [name, content] : files) {
    if (Status written = write_file(std::filesystem::path(directory) / name, content); !written.is_ok()) return written;
  }
  return Status::ok();
}

}  // namespace rehearse::reports
