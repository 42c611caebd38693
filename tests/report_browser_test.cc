// report.html in a real browser: headless Chromium (Debian's `chromium` package) loads the
// violating run's report, prints no console error and requests nothing from the network, and a
// screenshot shows the diagrams drawn: the page has the violation red of the space-time and
// violation diagrams and far more ink than the same page with its figures removed. Skipped,
// saying so, when no Chromium is installed (scripts/setup does not install it: it is large).
#include <png.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/report.h"
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

// Screenshots `html` with a tall window (the whole report), logging the console to stderr.
Rendered render(const std::string& chromium, const std::string& html, const std::string& name) {
  const std::string directory = testing::temp_dir() + "browser/";
  fs::create_directories(directory);
  const std::string png = directory + name + ".png";
  const std::string log = directory + name + ".log";
  fs::remove(png);
  const std::string command = "timeout 120 " + chromium +
                              " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
                              " --disable-extensions --disable-background-networking --enable-logging=stderr --v=0"
                              " --window-size=1400,9000 --screenshot=" + png + " file://" + html +
                              " >" + log + " 2>&1";
  Rendered rendered;
  const int status = std::system(command.c_str());
  rendered.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

TEST(ReportBrowser, ChromiumRendersTheViolatingReportWithItsDiagrams) {
  const std::optional<std::string> chromium = find_chromium();
  if (!chromium) GTEST_SKIP() << "no chromium on PATH (apt-get install chromium to run this test)";

  const Scenario scenario = testing::builtin("gc-pause-no-fencing");
  const RunResult result = sim::simulate(scenario, 1);
  ASSERT_TRUE(result.violated());
  const std::string directory = testing::temp_dir() + "browser-report";
  fs::remove_all(directory);
  const reports::ReportInput input{scenario, 1, result, reports::default_reproduce_command("gc-pause-no-fencing", 1),
                                   "test-build"};
  ASSERT_TRUE(reports::write_report(input, directory).is_ok());
  const std::string html_path = fs::absolute(directory + "/report.html").string();
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

}  // namespace
}  // namespace rehearse
