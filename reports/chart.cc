// chart_svg() of reports/figures.h: a hand-written SVG of two panels sharing the time axis,
// replication lag and the longest application wait per second, one polyline per region, with
// fault windows shaded, the SLO limits dashed and violations as red rules.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/figures.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

constexpr double kWidth = 900;
constexpr double kLeft = 70;
constexpr double kRight = 150;  // room for the legend
constexpr double kPanelHeight = 150;
constexpr double kPanelGap = 50;
constexpr double kTop = 40;
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct Panel {
  const char* title;
  TimeUs MetricSample::*value;
  TimeUs slo_us;
  double top;
};

// The smallest 1, 2 or 5 times a power of ten at or above `value`, and at least 10 ms.
TimeUs nice_ceiling(TimeUs value) {
  TimeUs step = 10 * kMs;
  while (true) {
    for (const TimeUs factor : {1, 2, 5}) {
      if (step * factor >= value) return step * factor;
    }
    step *= 10;
  }
}

struct Scale {
  TimeUs end_us = 1;
  double plot_width() const { return kWidth - kLeft - kRight; }
  double x(TimeUs us) const { return kLeft + plot_width() * static_cast<double>(us) / static_cast<double>(end_us); }
};

std::string prologue(double height) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      kWidth, height);
}

std::string fault_shading(const RunFacts& facts, const Scale& scale, double top, double height) {
  std::string svg;
  for (const FaultWindow& window : facts.faults) {
    if (window.skipped) continue;
    const double x = scale.x(window.start_us);
    const double width = std::max(2.0, scale.x(window.end_us) - x);
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#cccccc\" "
                       "fill-opacity=\"0.45\"><title>{}</title></rect>\n",
                       x, top, width, height, xml_escape(window.description));
  }
  return svg;
}

std::string violation_rules(const RunResult& result, const Scale& scale, double top, double height) {
  std::string svg;
  for (const Violation& violation : result.violations) {
    const double x = scale.x(violation.time_us);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#d62728\" "
                       "stroke-width=\"1.5\"><title>{3}</title></line>\n",
                       x, top, top + height, xml_escape(violation.invariant + ": " + violation.detail));
  }
  return svg;
}

std::string panel_svg(const Panel& panel, const RunResult& result, const RunFacts& facts, const Scale& scale,
                      const std::vector<std::string>& regions) {
  TimeUs highest = 0;
  for (const MetricSample& sample : result.samples) highest = std::max(highest, sample.*panel.value);
  const bool slo_shown = panel.slo_us > 0 && panel.slo_us <= highest * 2;
  const TimeUs y_max = nice_ceiling(std::max(highest, slo_shown ? panel.slo_us : 0) * 11 / 10);
  auto y = [&](TimeUs value) { return panel.top + kPanelHeight * (1.0 - static_cast<double>(value) / static_cast<double>(y_max)); };
  std::string svg = fmt::format(
      "<text x=\"{}\" y=\"{:.1f}\" font-weight=\"bold\">{}{}</text>\n", kLeft, panel.top - 8, panel.title,
      slo_shown || panel.slo_us == 0
          ? ""
          : fmt::format(" (SLO {} is above the chart)", duration_text(panel.slo_us, DurationStyle::rounded_spaced)));
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"none\" stroke=\"#999999\"/>\n", kLeft,
                     panel.top, scale.plot_width(), kPanelHeight);
  svg += fault_shading(facts, scale, panel.top, kPanelHeight);
  for (const TimeUs tick : {TimeUs{0}, y_max / 2, y_max}) {
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y(tick) + 4,
                       tick == 0 ? std::string("0") : duration_text(tick, DurationStyle::rounded_spaced));
  }
  if (slo_shown) {
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#d62728\">SLO {}</text>\n",
        kLeft, y(panel.slo_us), kLeft + scale.plot_width(), y(panel.slo_us), kLeft + scale.plot_width() + 4,
        y(panel.slo_us) + 4, duration_text(panel.slo_us, DurationStyle::rounded_spaced));
  }
  for (std::size_t r = 0; r < regions.size(); ++r) {
    std::string points;
    for (const MetricSample& sample : result.samples) {
      if (sample.region == regions[r]) points += fmt::format("{:.1f},{:.1f} ", scale.x(sample.time_us), y(sample.*panel.value));
    }
    if (points.empty()) continue;
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
                       kPalette[r % std::size(kPalette)], points);
  }
  return svg + violation_rules(result, scale, panel.top, kPanelHeight);
}

std::string time_axis(const Scale& scale, double y) {
  std::string svg;
  for (int tick = 0; tick <= 5; ++tick) {
    const TimeUs at = scale.end_us * tick / 5;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", scale.x(at), y,
                       duration_text(at, DurationStyle::clock_spaced));
  }
  return svg;
}

std::string legend(const std::vector<std::string>& regions) {
  std::string svg;
  const double x = kWidth - kRight + 40;
  for (std::size_t r = 0; r < regions.size(); ++r) {
    const double y = kTop + 14.0 * static_cast<double>(r);
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                       x, y, kPalette[r % std::size(kPalette)], x + 14, y + 9, xml_escape(regions[r]));
  }
  const double y = kTop + 14.0 * static_cast<double>(regions.size()) + 6;
  return svg + fmt::format("<rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"10\" height=\"10\" fill=\"#cccccc\"/>"
                           "<text x=\"{2:.1f}\" y=\"{3:.1f}\">fault window</text>\n"
                           "<rect x=\"{0:.1f}\" y=\"{4:.1f}\" width=\"10\" height=\"2\" fill=\"#d62728\"/>"
                           "<text x=\"{2:.1f}\" y=\"{5:.1f}\">violation</text>\n",
                           x, y, x + 14, y + 9, y + 18, y + 23);
}

}  // namespace

std::string chart_svg(const Scenario& scenario, const RunResult& result, const RunFacts& facts) {
  if (result.samples.empty()) {
    return prologue(80) + fmt::format("<text x=\"20\" y=\"45\">no samples: {} seed {} recorded no replication-lag or "
                                      "latency samples, so there is nothing to chart.</text>\n</svg>\n",
                                      xml_escape(scenario.name), result.seed);
  }
  Scale scale;
  scale.end_us = std::max<TimeUs>({facts.end_us, result.samples.back().time_us, 1});
  std::vector<std::string> regions;
  for (const MetricSample& sample : result.samples) {
    if (std::find(regions.begin(), regions.end(), sample.region) == regions.end()) regions.push_back(sample.region);
  }
  const Panel lag{"Replication lag", &MetricSample::replication_lag_us, scenario.slo.max_replica_lag_us, kTop};
  const Panel latency{"Application latency (longest wait per second)", &MetricSample::max_latency_us,
                      scenario.slo.max_stall_us, kTop + kPanelHeight + kPanelGap};
  const double height = latency.top + kPanelHeight + 40;
  std::string svg = prologue(height);
  svg += panel_svg(lag, result, facts, scale, regions) + time_axis(scale, lag.top + kPanelHeight + 16);
  svg += panel_svg(latency, result, facts, scale, regions) + time_axis(scale, latency.top + kPanelHeight + 16);
  return svg + legend(regions) + "</svg>\n";
}

}  // namespace rehearse::reports
