// Helpers shared by the test files: loading built-in scenarios and running the CLI binary.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/expr.h"
#include "core/model.h"
#include "core/run_result.h"
#include "scenarios/loader.h"

namespace rehearse::testing {

// An expression parsed from SQL text; fails the test (and gives an empty one) when it does not parse.
inline Expr parsed(const std::string& text) {
  ExprParseError error;
  std::optional<Expr> expr = parse_expression(text, &error);
  EXPECT_TRUE(expr.has_value()) << text << ": " << error.message;
  return expr.value_or(Expr{});
}

// A temporary directory of this test process alone (ctest runs each discovered test in its own
// process, two at a time: a directory shared between them let one test rewrite the report
// another was reading). Ends with '/'. Removed when the process exits with every test passed
// (a full run left ~2,900 behind); kept after a failure, for its files.
inline std::string temp_dir() {
  struct Directory {
    std::string path = ::testing::TempDir() + "rehearse-test-" + std::to_string(::getpid()) + "/";
    Directory() { std::filesystem::create_directories(path); }
    Directory(const Directory&) = delete;
    Directory& operator=(const Directory&) = delete;
    ~Directory() {
      if (!::testing::UnitTest::GetInstance()->Passed()) return;
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Directory directory;
  return directory.path;
}

// How many events of the run's history `matches` (a predicate on const Event&), or are of `kind`.
template <typename Predicate>
int count_events(const RunResult& result, Predicate matches) {
  int count = 0;
  for (const Event& event : result.history.events()) count += matches(event) ? 1 : 0;
  return count;
}
inline int count_events(const RunResult& result, EventKind kind) {
  return count_events(result, [kind](const Event& event) { return event.kind == kind; });
}

// The time of the first event of `result` for which `matches` holds, or -1.
template <typename Matches>
TimeUs first_time(const RunResult& result, Matches matches) {
  for (const Event& event : result.history.events()) {
    if (matches(event)) return event.time_us;
  }
  return -1;
}

// The table the simulated-database tests drive: `orders`, `rows` rows of one integer column
// `amount` (1..100).
inline TableSpec orders_with_amount(std::int64_t rows) {
  TableSpec spec;
  spec.name = "orders";
  spec.rows = rows;
  ColumnSpec amount;
  amount.name = "amount";
  amount.type = ColumnType::integer;
  amount.gen = "1..100";
  spec.columns.push_back(amount);
  return spec;
}

// Loads a built-in scenario by name; fails the test when it does not load.
inline Scenario builtin(const std::string& name) {
  LoadResult loaded = resolve_scenario(name);
  EXPECT_TRUE(loaded.ok()) << name << (loaded.errors.empty() ? "" : ": " + loaded.errors.front().to_string());
  return loaded.ok() ? *loaded.scenario : Scenario{};
}

// Loads a scenario from YAML text; fails the test when it does not load.
inline Scenario from_text(const std::string& text) {
  LoadResult loaded = load_scenario_text(text, "test.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
  return loaded.ok() ? *loaded.scenario : Scenario{};
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr (sanitizer builds may add their own notes here)
};

inline std::string read_whole_file(const std::string& path) {
  std::string text;
  if (FILE* file = std::fopen(path.c_str(), "r")) {
    char buffer[4096];
    std::size_t read = 0;
    while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, read);
    std::fclose(file);
  }
  return text;
}

// Runs the `rehearse` binary with `arguments` (a shell fragment) and captures its output.
inline CommandResult run_rehearse(const std::string& arguments) {
  // One file per test process: ctest runs tests in parallel processes.
  const std::string err_path = temp_dir() + "stderr.txt";
  const std::string command = std::string(REHEARSE_BINARY) + " " + arguments + " 2>" + err_path;
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = read_whole_file(err_path);
  return result;
}

// Writes `text` to a fresh file under the test's temporary directory and returns its path.
inline std::string write_temp_file(const std::string& name, const std::string& text) {
  const std::string path = temp_dir() + name;
  FILE* file = std::fopen(path.c_str(), "w");
  EXPECT_NE(file, nullptr);
  if (file != nullptr) {
    std::fputs(text.c_str(), file);
    std::fclose(file);
  }
  return path;
}

}  // namespace rehearse::testing
