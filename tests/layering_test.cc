// Layering (issue 15; ../shared/design/architecture.md, "Folders"): which folder may include which,
// enforced by the test suite. check_includes(root) scans every .h/.cc under core/ sim/ scenarios/
// real_backends/ reports/ sweep/ cli/ of a source tree and names, file:line first, each include the table
// forbids: `#include "folder/..."` of a folder the including folder may not use, and
// `#include <...>` of a third-party library it may not use. check_links(root) reads the tree's
// CMakeLists.txt and names every rehearse_* library whose target_link_libraries differ from the
// folders its sources include. The first tests run both on this source tree; the others build
// small trees with a deliberate forbidden include, a forbidden library header and a wrong link,
// and show the checkers catch each.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace rehearse {
namespace {

namespace fs = std::filesystem;

// POSIX and Linux system headers, for the folders that talk to processes, sockets and signals.
const std::vector<std::string> kSystemHeaders = {"unistd.h", "signal.h", "fcntl.h", "poll.h",
                                                 "netdb.h",  "sys/",     "netinet/", "arpa/"};

// One row of the architecture's "Folders" table, and the third-party headers the folder uses.
struct Folder {
  std::string name;                      // "core"
  std::string library;                   // its CMake target: "rehearse_core"
  std::set<std::string> may_include;     // the folders whose headers it may include, itself among them
  std::vector<std::string> third_party;  // prefixes of the angle-bracket headers it may include
};

std::vector<std::string> with_system(std::vector<std::string> headers) {
  headers.insert(headers.end(), kSystemHeaders.begin(), kSystemHeaders.end());
  return headers;
}

// The standard library (an angle-bracket name without '.' or '/', as <string> and <cstdint>) is
// allowed everywhere and not listed.
const std::vector<Folder>& folders() {
  static const std::vector<Folder> table = {
      {"core", "rehearse_core", {"core"}, {"fmt/"}},
      // Boost.Fiber and Boost.Context for the kernel; the sanitizer interface only in ASan builds,
      // to tell AddressSanitizer about fiber stack switches (sim/kernel.cc).
      {"sim", "rehearse_sim", {"core", "sim"}, {"fmt/", "boost/fiber/", "boost/context/", "sanitizer/"}},
      {"scenarios", "rehearse_scenarios", {"core", "sim", "scenarios"}, {"fmt/", "yaml-cpp/", "libfyaml.h"}},
      {"real_backends",
       "rehearse_real",
       {"core", "real_backends"},
       with_system({"fmt/", "nlohmann/", "pqxx/", "libpq-fe.h", "hiredis/", "curl/", "zookeeper/"})},
      {"reports", "rehearse_reports", {"core", "reports"}, {"fmt/", "nlohmann/", "graphviz/"}},
      // Many seeds of a scenario (issue 15): the seed runner, the sweep summary, merge, coverage,
      // `check`'s expectations and the shrinker. Only cli/ (and the tests) include it.
      {"sweep", "rehearse_sweep", {"core", "sim", "scenarios", "sweep"}, {"fmt/", "nlohmann/"}},
      {"cli",
       "rehearse_cli",
       {"core", "sim", "scenarios", "real_backends", "reports", "sweep", "cli"},
       with_system({"fmt/", "nlohmann/", "CLI/", "yaml-cpp/"})},
  };
  return table;
}

// Third-party headers allowed in one file only: the folder as a whole may not use them.
struct FileException {
  std::string file;
  std::string header_prefix;
};

const std::vector<FileException>& file_exceptions() {
  static const std::vector<FileException> exceptions = {
      // core/'s expression language and SQL readers parse with PostgreSQL's own parser
      // (libpg_query, a pure function of its input; CMakeLists.txt, rehearse_core) and read its
      // JSON parse tree with nlohmann-json. No other core/ file may.
      {"core/expr_parse.cc", "pg_query.h"},
      {"core/schema_sql.cc", "pg_query.h"},
      {"core/sql_migration.cc", "pg_query.h"},
      {"core/expr_parse.cc", "nlohmann/"},
      {"core/pg_json.h", "nlohmann/"},
  };
  return exceptions;
}

const Folder* find_folder(const std::string& name) {
  for (const Folder& folder : folders()) {
    if (folder.name == name) return &folder;
  }
  return nullptr;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool is_standard_header(const std::string& header) {
  return !header.empty() && header.find_first_of("./") == std::string::npos;
}

bool third_party_allowed(const Folder& folder, const std::string& file, const std::string& header) {
  for (const std::string& prefix : folder.third_party) {
    if (starts_with(header, prefix)) return true;
  }
  for (const FileException& exception : file_exceptions()) {
    if (exception.file == file && starts_with(header, exception.header_prefix)) return true;
  }
  return false;
}

// One `#include` line of a source file.
struct Include {
  std::string file;    // relative to the root: "core/engine.cc"
  int line = 0;        // 1-based
  bool quoted = false; // "..." rather than <...>
  std::string header;  // as written between the delimiters
};

// Every .h and .cc file under `root`/`folder`, sorted, relative to `root`.
std::vector<std::string> source_files(const fs::path& root, const std::string& folder) {
  std::vector<std::string> files;
  if (!fs::is_directory(root / folder)) return files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root / folder)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".h" || extension == ".cc")) {
      files.push_back(fs::relative(entry.path(), root).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Include> includes_of(const fs::path& root, const std::string& file) {
  static const std::regex include_line(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<Include> includes;
  std::ifstream in(root / file);
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    std::smatch match;
    if (std::regex_search(text, match, include_line)) {
      includes.push_back(Include{file, line, match[1].str() == "\"", match[2].str()});
    }
  }
  return includes;
}

std::string list_text(const std::set<std::string>& items, const std::string& suffix) {
  std::vector<std::string> written;
  for (const std::string& item : items) written.push_back(item + suffix);
  return fmt::format("{}", fmt::join(written, ", "));
}

// The problem with one include, or "" when the architecture allows it.
std::string include_problem(const Folder& folder, const Include& include) {
  const std::string where = fmt::format("{}:{}: {}/ includes ", include.file, include.line, folder.name);
  if (include.quoted) {
    const std::string target = include.header.substr(0, include.header.find('/'));
    if (include.header.find('/') != std::string::npos && folder.may_include.count(target) > 0) return "";
    return fmt::format("{}\"{}\": {}/ may include only {} (architecture.md, Folders)", where, include.header,
                       folder.name, list_text(folder.may_include, "/"));
  }
  if (is_standard_header(include.header) || third_party_allowed(folder, include.file, include.header)) return "";
  return fmt::format("{}<{}>, a library {}/ may not use (it may use the standard library and {})", where,
                     include.header, folder.name, fmt::join(folder.third_party, " "));
}

// Every include under `root` that the layering forbids, one line each, file:line first; empty when
// there is none.
std::vector<std::string> check_includes(const fs::path& root) {
  std::vector<std::string> problems;
  for (const Folder& folder : folders()) {
    for (const std::string& file : source_files(root, folder.name)) {
      for (const Include& include : includes_of(root, file)) {
        std::string problem = include_problem(folder, include);
        if (!problem.empty()) problems.push_back(std::move(problem));
      }
    }
  }
  return problems;
}

// For each folder, the other folders its files include that it may include, with the first
// include of each as evidence ("cli/commands.cc:12").
std::map<std::string, std::map<std::string, std::string>> folder_graph(const fs::path& root) {
  std::map<std::string, std::map<std::string, std::string>> graph;
  for (const Folder& folder : folders()) {
    graph[folder.name];
    for (const std::string& file : source_files(root, folder.name)) {
      for (const Include& include : includes_of(root, file)) {
        const std::size_t slash = include.header.find('/');
        if (!include.quoted || slash == std::string::npos) continue;
        const std::string target = include.header.substr(0, slash);
        if (target == folder.name || folder.may_include.count(target) == 0) continue;
        graph[folder.name].emplace(target, fmt::format("{}:{}", include.file, include.line));
      }
    }
  }
  return graph;
}

// `text` without CMake's line comments (from a '#' at the start of a line or after a space).
std::string without_comments(const std::string& text) {
  static const std::regex comment(R"((^|\s)#[^\n]*)");
  return std::regex_replace(text, comment, "$1");
}

// Every target's rehearse_* link libraries in `cmake_lists`, PUBLIC and PRIVATE alike, over all of
// its target_link_libraries calls.
std::map<std::string, std::set<std::string>> linked_libraries(const fs::path& cmake_lists) {
  std::ifstream in(cmake_lists);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = without_comments(buffer.str());
  static const std::regex call(R"(target_link_libraries\s*\(\s*([A-Za-z0-9_]+)([^)]*)\))");
  static const std::regex word(R"(\S+)");
  std::map<std::string, std::set<std::string>> linked;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator(); ++it) {
    std::set<std::string>& libraries = linked[(*it)[1].str()];
    const std::string arguments = (*it)[2].str();
    for (auto w = std::sregex_iterator(arguments.begin(), arguments.end(), word); w != std::sregex_iterator(); ++w) {
      if (starts_with(w->str(), "rehearse_")) libraries.insert(w->str());
    }
  }
  return linked;
}

// Every rehearse_* library of `root`/CMakeLists.txt that links another rehearse_* library its
// folder does not include, or does not link one its folder includes (and may include); one line
// each, empty when each library links exactly what its folder includes.
std::vector<std::string> check_links(const fs::path& root) {
  std::vector<std::string> problems;
  const auto linked = linked_libraries(root / "CMakeLists.txt");
  const auto graph = folder_graph(root);
  for (const Folder& folder : folders()) {
    const auto found = linked.find(folder.library);
    if (found == linked.end()) {
      problems.push_back(fmt::format("CMakeLists.txt: no target_link_libraries({} ...)", folder.library));
      continue;
    }
    std::map<std::string, std::string> expected;  // library -> the include that needs it
    for (const auto& [target, evidence] : graph.at(folder.name)) expected.emplace(find_folder(target)->library, evidence);
    for (const auto& [library, evidence] : expected) {
      if (found->second.count(library) == 0) {
        problems.push_back(fmt::format("CMakeLists.txt: {} does not link {}, but {}/ includes it ({})", folder.library,
                                       library, folder.name, evidence));
      }
    }
    for (const std::string& library : found->second) {
      if (expected.count(library) == 0) {
        problems.push_back(fmt::format("CMakeLists.txt: {} links {}, but no file of {}/ includes its headers",
                                       folder.library, library, folder.name));
      }
    }
  }
  return problems;
}

std::string lines_text(const std::vector<std::string>& lines) { return fmt::format("{}", fmt::join(lines, "\n")); }

// A fresh directory for a small source tree of the test's own.
fs::path fresh_tree(const std::string& name) {
  const fs::path root = fs::path(testing::temp_dir()) / name;
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void write_file(const fs::path& root, const std::string& file, const std::string& text) {
  fs::create_directories((root / file).parent_path());
  std::ofstream(root / file) << text;
}

const fs::path kSourceDir = REHEARSE_SOURCE_DIR;

// The checker reads the real tree: every folder is there and holds files with includes, so an
// empty answer below is not the answer for a wrong directory.
TEST(LayeringTest, SourceTreeHasEveryFolder) {
  for (const Folder& folder : folders()) {
    const std::vector<std::string> files = source_files(kSourceDir, folder.name);
    EXPECT_FALSE(files.empty()) << folder.name;
    int includes = 0;
    for (const std::string& file : files) includes += static_cast<int>(includes_of(kSourceDir, file).size());
    EXPECT_GT(includes, 0) << folder.name;
  }
  EXPECT_TRUE(fs::is_regular_file(kSourceDir / "CMakeLists.txt"));
}

// Every folder of this tree includes only the folders and libraries the architecture allows it.
TEST(LayeringTest, SourceTreeIncludesOnlyWhatTheArchitectureAllows) {
  const std::vector<std::string> problems = check_includes(kSourceDir);
  EXPECT_TRUE(problems.empty()) << problems.size() << " forbidden include(s):\n" << lines_text(problems);
}

// Each library of CMakeLists.txt links exactly the rehearse_* libraries its folder includes.
TEST(LayeringTest, LibrariesLinkExactlyWhatTheirFoldersInclude) {
  const std::vector<std::string> problems = check_links(kSourceDir);
  EXPECT_TRUE(problems.empty()) << lines_text(problems);
}

// A core/ header including the simulator is reported with its file, line and the edge.
TEST(LayeringTest, CatchesCoreIncludingSim) {
  const fs::path root = fresh_tree("layering-core-sim");
  write_file(root, "core/x.h", "#pragma once\n\n#include \"sim/world.h\"\n#include \"core/model.h\"\n");
  write_file(root, "sim/world.h", "#pragma once\n#include \"core/x.h\"\n");
  const std::vector<std::string> problems = check_includes(root);
  ASSERT_EQ(problems.size(), 1u) << lines_text(problems);
  EXPECT_EQ(problems[0], "core/x.h:3: core/ includes \"sim/world.h\": core/ may include only core/ (architecture.md, Folders)");
}

// The edges the table forbids besides core/ -> anything: sim/ and real_backends/ never include
// each other, reports/ never includes scenarios/, only cli/ includes sweep/, sweep/ includes
// neither the reports, the live backends nor cli/, and a folder outside the table is refused.
TEST(LayeringTest, CatchesEveryForbiddenEdge) {
  const fs::path root = fresh_tree("layering-edges");
  write_file(root, "sim/a.cc", "#include \"real_backends/postgres.h\"\n");
  write_file(root, "real_backends/b.cc", "#include \"core/ports.h\"\n  #  include \"sim/world.h\"\n");
  write_file(root, "reports/c.cc", "#include \"scenarios/loader.h\"\n#include \"sweep/summary.h\"\n");
  write_file(root, "scenarios/d.cc", "#include \"sim/world.h\"\n#include \"cli/output.h\"\n");
  write_file(root, "cli/e.cc", "#include \"tests/test_support.h\"\n#include \"reports/report.h\"\n#include \"sweep/shrink.h\"\n");
  write_file(root, "sweep/f.cc",
             "#include \"scenarios/loader.h\"\n#include \"reports/run_json.h\"\n#include \"real_backends/live_runner.h\"\n"
             "#include \"cli/commands_internal.h\"\n");
  write_file(root, "core/g.h", "#include \"sweep/runner.h\"\n");
  const std::string problems = lines_text(check_includes(root));
  EXPECT_NE(problems.find("sim/a.cc:1: sim/ includes \"real_backends/postgres.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("real_backends/b.cc:2: real_backends/ includes \"sim/world.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("reports/c.cc:1: reports/ includes \"scenarios/loader.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("reports/c.cc:2: reports/ includes \"sweep/summary.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("scenarios/d.cc:2: scenarios/ includes \"cli/output.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("cli/e.cc:1: cli/ includes \"tests/test_support.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("sweep/f.cc:2: sweep/ includes \"reports/run_json.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("sweep/f.cc:3: sweep/ includes \"real_backends/live_runner.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("sweep/f.cc:4: sweep/ includes \"cli/commands_internal.h\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("core/g.h:1: core/ includes \"sweep/runner.h\""), std::string::npos) << problems;
  EXPECT_EQ(check_includes(root).size(), 10u) << problems;
}

// Third-party headers are checked per folder: Boost and libpqxx are not core/'s, pg_query.h is
// allowed in the three core/ files that parse SQL and nowhere else, Boost.Fiber is sim/'s.
TEST(LayeringTest, CatchesAForbiddenLibraryHeader) {
  const fs::path root = fresh_tree("layering-third-party");
  write_file(root, "core/y.cc", "#include <string>\n#include <fmt/format.h>\n#include <boost/fiber/fiber.hpp>\n#include <pqxx/pqxx>\n");
  write_file(root, "core/engine.cc", "#include <pg_query.h>\n");
  write_file(root, "core/schema_sql.cc", "#include <pg_query.h>\n");
  write_file(root, "sim/z.cc", "#include <vector>\n#include <boost/fiber/fiber.hpp>\n#include <yaml-cpp/yaml.h>\n");
  const std::vector<std::string> problems = check_includes(root);
  const std::string text = lines_text(problems);
  ASSERT_EQ(problems.size(), 4u) << text;
  EXPECT_NE(text.find("core/engine.cc:1: core/ includes <pg_query.h>"), std::string::npos) << text;
  EXPECT_NE(text.find("core/y.cc:3: core/ includes <boost/fiber/fiber.hpp>"), std::string::npos) << text;
  EXPECT_NE(text.find("core/y.cc:4: core/ includes <pqxx/pqxx>"), std::string::npos) << text;
  EXPECT_NE(text.find("sim/z.cc:3: sim/ includes <yaml-cpp/yaml.h>"), std::string::npos) << text;
}

// A library that links one it does not include, or misses one it does, is named.
TEST(LayeringTest, CatchesALinkThatDiffersFromTheIncludes) {
  const fs::path root = fresh_tree("layering-links");
  write_file(root, "core/a.h", "#include <string>\n");
  write_file(root, "sim/b.h", "#include \"core/a.h\"\n");
  write_file(root, "scenarios/c.h", "#include \"core/a.h\"\n");
  write_file(root, "real_backends/d.h", "#include \"core/a.h\"\n");
  write_file(root, "reports/e.h", "#include \"core/a.h\"\n");
  write_file(root, "sweep/g.h", "#include \"sim/b.h\"\n");
  write_file(root, "cli/f.cc", "#include \"core/a.h\"\n#include \"sim/b.h\"\n#include \"sweep/g.h\"\n");
  write_file(root, "CMakeLists.txt",
             "target_link_libraries(rehearse_core PUBLIC fmt::fmt)\n"
             "target_link_libraries(rehearse_sim PUBLIC Boost::fiber)  # rehearse_core missing\n"
             "target_link_libraries(rehearse_scenarios PUBLIC rehearse_core yaml-cpp)\n"
             "target_link_libraries(rehearse_real PUBLIC rehearse_core)\n"
             "target_link_libraries(rehearse_reports PUBLIC rehearse_scenarios\n"
             "                      rehearse_core)\n"
             "target_link_libraries(rehearse_sweep PUBLIC rehearse_sim)\n"
             "target_link_libraries(rehearse_cli PUBLIC rehearse_core rehearse_sim rehearse_sweep)\n"
             "target_link_libraries(rehearse_tests PRIVATE rehearse_cli)\n");
  const std::vector<std::string> problems = check_links(root);
  const std::string text = lines_text(problems);
  ASSERT_EQ(problems.size(), 2u) << text;
  EXPECT_EQ(problems[0], "CMakeLists.txt: rehearse_sim does not link rehearse_core, but sim/ includes it (sim/b.h:1)");
  EXPECT_EQ(problems[1], "CMakeLists.txt: rehearse_reports links rehearse_scenarios, but no file of reports/ includes its headers");
}

}  // namespace
}  // namespace rehearse
