// report.html in a real browser: headless Chromium (Debian's `chromium` package, installed by
// scripts/setup) loads the violating run's report, prints no console error and requests nothing
// from the network, and a screenshot shows the diagrams drawn: the page has the violation red of
// the space-time and violation diagrams and far more ink than the same page with its figures
// removed. At 1400 px wide every figure fits its box (nothing cut at the right edge, no
// horizontal scrolling) and the violation's red edges (the stale write's arrow) are inside the
// viewport and painted there, for gc-pause-no-fencing and other violating built-ins.
// Without Chromium the tests fail, naming the fix; REHEARSE_ALLOW_NO_BROWSER=1 skips them instead
// (a developer machine without a browser), never in CI.
#include <png.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/report.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

namespace fs = std::filesystem;
using testing::read_whole_file;

std::optional<std::string> find_chromium() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream directories(path);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      const fs::path candidate = fs::path(directory) / name;
      std::error_code error;
      if (fs::exists(candidate, error)) return candidate.string();
    }
  }
  return std::nullopt;
}

// Whether a missing browser may skip the tests: only when REHEARSE_ALLOW_NO_BROWSER=1.
bool browser_optional() {
  const char* allowed = std::getenv("REHEARSE_ALLOW_NO_BROWSER");
  return allowed != nullptr && std::string(allowed) == "1";
}

const char* const kNoChromium =
    "no chromium on PATH: scripts/setup installs Debian's chromium (apt-get install chromium); "
    "REHEARSE_ALLOW_NO_BROWSER=1 skips the browser tests instead";

struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgba;  // width * height * 4
};

// Decodes a PNG file with libpng's simplified API; nullopt when it is not a readable PNG.
std::optional<Image> read_png(const std::string& path) {
  png_image decoder{};
  decoder.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&decoder, path.c_str()) == 0) return std::nullopt;
  decoder.format = PNG_FORMAT_RGBA;
  Image image;
  image.width = static_cast<int>(decoder.width);
  image.height = static_cast<int>(decoder.height);
  image.rgba.resize(PNG_IMAGE_SIZE(decoder));
  if (png_image_finish_read(&decoder, nullptr, image.rgba.data(), 0, nullptr) == 0) {
    png_image_free(&decoder);
    return std::nullopt;
  }
  return image;
}

struct Ink {
  long dark = 0;  // pixels clearly not background
  long red = 0;   // pixels near the violation colour #d62728
};

Ink measure(const Image& image) {
  Ink ink;
  for (std::size_t i = 0; i + 3 < image.rgba.size(); i += 4) {
    const int r = image.rgba[i], g = image.rgba[i + 1], b = image.rgba[i + 2];
    if (r + g + b < 600) ++ink.dark;
    if (std::abs(r - 0xd6) < 24 && std::abs(g - 0x27) < 24 && std::abs(b - 0x28) < 24) ++ink.red;
  }
  return ink;
}

struct Rendered {
  int exit_code = -1;
  std::string log;
  std::optional<Image> screenshot;
};

constexpr int kPageWidth = 1400;  // the window width the figures must fit
constexpr double kScaleMin = 0.6;  // ... without shrinking below this (9 pt labels stay over 7 px)

// Runs headless Chromium on `html` with a window kPageWidth x `height` and `action` (a
// --screenshot or --dump-dom flag), stdout and stderr (the console) to `log`. Each run gets a new
// empty profile; the flags keep it offline and quiet (no sandbox: the tests may run as root).
int run_chromium(const std::string& chromium, const std::string& html, int height, const std::string& action,
                 const std::string& log) {
  const std::string profile = testing::temp_dir() + "chromium-profile-" + fs::path(log).stem().string();
  fs::remove_all(profile);
  fs::create_directories(profile);
  const std::string command = "timeout 120 " + chromium +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic"
                              " --no-first-run --disable-background-networking --disable-component-update"
                              " --disable-sync --disable-extensions --hide-scrollbars --user-data-dir=" + profile +
                              " --enable-logging=stderr --v=0 --window-size=" + std::to_string(kPageWidth) + "," +
                              std::to_string(height) + " " + action + " file://" + html + " >" + log + " 2>&1";
  const int status = std::system(command.c_str());
  fs::remove_all(profile);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Screenshots `html` with a window `height` px tall, logging the console.
Rendered render(const std::string& chromium, const std::string& html, const std::string& name, int height = 12000) {
  const std::string directory = testing::temp_dir() + "browser/";
  fs::create_directories(directory);
  const std::string png = directory + name + ".png";
  const std::string log = directory + name + ".log";
  fs::remove(png);
  Rendered rendered;
  rendered.exit_code = run_chromium(chromium, html, height, "--screenshot=" + png, log);
  rendered.log = read_whole_file(log);
  rendered.screenshot = read_png(png);
  return rendered;
}

// The console and network lines of a Chromium log that would mean the page is broken.
std::vector<std::string> page_errors(const std::string& log) {
  static const std::regex bad(R"((CONSOLE|Uncaught|net::ERR_|Failed to load|Refused to))");
  std::vector<std::string> errors;
  std::stringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, bad)) errors.push_back(line);
  }
  return errors;
}

// The report's HTML with every inline <svg>...</svg> removed: the page without its figures.
std::string without_figures(const std::string& html) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = html.find("<svg", at);
    if (open == std::string::npos) break;
    const std::size_t close = html.find("</svg>", open);
    if (close == std::string::npos) break;
    out.append(html, at, open - at);
    at = close + 6;
  }
  out.append(html, at, std::string::npos);
  return out;
}

// Writes the report of built-in `name` seed 1 (a violating run) and returns its directory.
std::string violating_report(const std::string& name) {
  const Scenario scenario = testing::builtin(name);
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_TRUE(result.violated()) << name;
  const std::string directory = fs::absolute(testing::temp_dir() + "browser-report-" + name).string();
  fs::remove_all(directory);
  const reports::ReportInput input{scenario, 1, result, reports::default_reproduce_command(name, 1), "test-build", {},
                                   scenario_yaml(scenario, 1, result.history)};
  EXPECT_TRUE(reports::write_report(input, directory).is_ok()) << name;
  return directory;
}

// Appended to a copy of report.html (the report itself has no script): measures, in CSS pixels
// of the page, the window, how wide the page scrolls, and per figure its box, its SVG's box, the
// scale it is drawn at (drawn width / its own width) and the boxes of its red (#d62728) edges,
// and writes them as JSON into <pre id="measured">.
const char* const kMeasureScript = R"js(
<script>
(function () {
  const box = (element) => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const out = {width: window.innerWidth, scroll_width: document.documentElement.scrollWidth, figures: {}};
  for (const figure of document.querySelectorAll('figure')) {
    const svg = figure.querySelector('svg');
    const red = [];
    for (const path of svg.querySelectorAll('g.edge path[stroke="#d62728"]')) red.push(box(path));
    const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
    out.figures[figure.id] = {figure: box(figure), svg: box(svg), scale: scale, red: red};
  }
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
)js";

// The JSON kMeasureScript leaves in the DOM Chromium dumps, or null when there is none.
nlohmann::json measured_json(const std::string& dom) {
  const std::string open = "<pre id=\"measured\">";
  const std::size_t start = dom.find(open);
  if (start == std::string::npos) return nullptr;
  const std::size_t end = dom.find("</pre>", start);
  if (end == std::string::npos) return nullptr;
  return nlohmann::json::parse(dom.substr(start + open.size(), end - start - open.size()), nullptr, false);
}

// Red pixels of `image` inside the page box [left, top, right, bottom] (CSS px = image px).
long red_pixels_in(const Image& image, const nlohmann::json& box) {
  const int left = std::max(0, static_cast<int>(box[0].get<double>()));
  const int top = std::max(0, static_cast<int>(box[1].get<double>()));
  const int right = std::min(image.width, static_cast<int>(box[2].get<double>()) + 1);
  const int bottom = std::min(image.height, static_cast<int>(box[3].get<double>()) + 1);
  long red = 0;
  for (int y = top; y < bottom; ++y) {
    for (int x = left; x < right; ++x) {
      const std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width) + static_cast<std::size_t>(x)) * 4;
      const int r = image.rgba[i], g = image.rgba[i + 1], b = image.rgba[i + 2];
      if (std::abs(r - 0xd6) < 24 && std::abs(g - 0x27) < 24 && std::abs(b - 0x28) < 24) ++red;
    }
  }
  return red;
}

TEST(ReportBrowser, ChromiumRendersTheViolatingReportWithItsDiagrams) {
  const std::optional<std::string> chromium = find_chromium();
  if (!chromium && browser_optional()) GTEST_SKIP() << "no chromium on PATH (REHEARSE_ALLOW_NO_BROWSER=1)";
  ASSERT_TRUE(chromium.has_value()) << kNoChromium;

  const std::string directory = violating_report("gc-pause-no-fencing");
  const std::string html_path = directory + "/report.html";
  const std::string html = read_whole_file(html_path);
  ASSERT_NE(html.find("<svg"), std::string::npos);

  const Rendered full = render(*chromium, html_path, "full");
  ASSERT_EQ(full.exit_code, 0) << full.log;
  ASSERT_TRUE(full.screenshot.has_value()) << "no screenshot written\n" << full.log;
  EXPECT_TRUE(page_errors(full.log).empty()) << page_errors(full.log).front();

  const std::string bare_path = fs::absolute(directory + "/report-without-figures.html").string();
  std::ofstream(bare_path) << without_figures(html);
  const Rendered bare = render(*chromium, bare_path, "bare");
  ASSERT_TRUE(bare.screenshot.has_value()) << bare.log;

  const Ink with = measure(*full.screenshot);
  const Ink without = measure(*bare.screenshot);
  // The diagrams draw the violating writes and the proving events in red; the text alone does not.
  EXPECT_GT(with.red, 200) << "violation red pixels with figures: " << with.red << ", without: " << without.red;
  EXPECT_GT(with.red, 4 * without.red + 100);
  // Lanes, lease bars, arrows and labels: the figures add a lot of ink to the page.
  EXPECT_GT(with.dark, without.dark + 20000) << "dark pixels with figures " << with.dark << ", without " << without.dark;
}

// Each figure of a violating report at 1400 px: inside its box and the window, and the red
// edges of the space-time and violation diagrams (the stale write's arrow and why its order is
// the violation) inside the viewport and painted there. Before the figures were fitted, the
// space-time diagram of gc-pause-no-fencing was 16,900 px wide and cut after its first 12 ms.
class ReportBrowserFit : public ::testing::TestWithParam<const char*> {};

TEST_P(ReportBrowserFit, FiguresFitThePageAndTheViolationIsOnScreen) {
  const std::optional<std::string> chromium = find_chromium();
  if (!chromium && browser_optional()) GTEST_SKIP() << "no chromium on PATH (REHEARSE_ALLOW_NO_BROWSER=1)";
  ASSERT_TRUE(chromium.has_value()) << kNoChromium;
  const std::string name = GetParam();
  const std::string directory = violating_report(name);
  const std::string measured_path = directory + "/report-measured.html";
  std::ofstream(measured_path) << read_whole_file(directory + "/report.html") << kMeasureScript;

  const std::string log = testing::temp_dir() + "browser-dom-" + name + ".log";
  ASSERT_EQ(run_chromium(*chromium, measured_path, 900, "--dump-dom", log), 0) << read_whole_file(log);
  const nlohmann::json page = measured_json(read_whole_file(log));
  ASSERT_TRUE(page.is_object()) << "no measurements in the dumped DOM:\n" << read_whole_file(log).substr(0, 2000);
  const double width = page["width"].get<double>();
  ASSERT_EQ(width, kPageWidth);
  EXPECT_LE(page["scroll_width"].get<double>(), width) << "the page scrolls sideways";
  constexpr double kSlack = 1.0;  // sub-pixel rounding
  ASSERT_EQ(page["figures"].size(), 3u) << page.dump();
  for (const auto& [id, figure] : page["figures"].items()) {
    SCOPED_TRACE(name + " figure " + id + ": " + figure.dump());
    const auto& box = figure["figure"];
    const auto& svg = figure["svg"];
    EXPECT_GE(box[0].get<double>(), -kSlack);
    EXPECT_LE(box[2].get<double>(), width + kSlack) << "the figure's box is cut by the window";
    EXPECT_GE(svg[0].get<double>(), box[0].get<double>() - kSlack) << "the SVG starts left of its box";
    EXPECT_LE(svg[2].get<double>(), box[2].get<double>() + kSlack) << "the SVG is cut at the right edge of its box";
    EXPECT_GT(svg[2].get<double>() - svg[0].get<double>(), 200) << "the SVG is squeezed to nothing";
    // Fitting by shrinking alone would make 9 pt labels unreadable: at most a 0.6 scale-down.
    EXPECT_GE(figure["scale"].get<double>(), kScaleMin) << "the figure is shrunk too far to read";
  }
  double lowest = 0;
  for (const char* id : {"spacetimesvg", "violationsvg"}) {
    const auto& figure = page["figures"][id];
    SCOPED_TRACE(name + " figure " + id + ": " + figure.dump());
    ASSERT_FALSE(figure["red"].empty()) << "no red violation edge drawn";
    for (const auto& red : figure["red"]) {
      EXPECT_GE(red[0].get<double>(), figure["figure"][0].get<double>() - kSlack) << "red edge left of the figure";
      EXPECT_LE(red[2].get<double>(), std::min(width, figure["figure"][2].get<double>()) + kSlack)
          << "red edge outside the viewport or its figure";
      lowest = std::max(lowest, red[3].get<double>());
    }
  }
  // The same page, screenshot tall enough to hold the red edges: they are painted where measured.
  const int height = static_cast<int>(lowest) + 100;
  ASSERT_LT(height, 20000) << "the page is too tall to screenshot";
  const Rendered shot = render(*chromium, measured_path, "measured-" + name, height);
  ASSERT_TRUE(shot.screenshot.has_value()) << shot.log;
  EXPECT_EQ(shot.screenshot->width, kPageWidth);
  long painted = 0;
  for (const char* id : {"spacetimesvg", "violationsvg"}) {
    for (const auto& red : page["figures"][id]["red"]) painted += red_pixels_in(*shot.screenshot, red);
  }
  EXPECT_GT(painted, 50) << name << ": red edges measured but not painted in the screenshot";
}

INSTANTIATE_TEST_SUITE_P(ViolatingBuiltins, ReportBrowserFit,
                         ::testing::Values("gc-pause-no-fencing", "redlock-clock-jump", "long-transaction-ttl"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace rehearse
