// `rehearse live CONFIG [--prepare] [--dry-run] [--json] [--report DIR]`: the migration against real
// PostgreSQL and Redis (../shared/spec/live.md, docs/live.md). Exit codes: 0 pass, 1 violation,
// 2 bad config, 3 backend unreachable.
#pragma once

#include <string>

#include "real_backends/live_runner.h"

namespace CLI {
class App;
}

namespace rehearse::cli {

struct LiveOptions {
  std::string config;
  bool prepare = false;
  bool dry_run = false;
  bool json = false;
  std::string report_dir;  // --report DIR: the postmortem of the live run (reports.md)
};

int live_command(const LiveOptions& options);

// The runner options of a live run from this build: engines are `engine_binary live-engine`
// processes that reload the scenario from scenarios/scenario_yaml's text.
live::LiveOptions live_run_options(const std::string& engine_binary);

// The hidden `live-engine` subcommand (one engine process of a live run): reads its spec on
// stdin, writes its history on stdout; the exit code is engine_process.h's kEngineExit*.
int live_engine_command();

// Declares the `live` (and hidden `live-engine`) subcommands on `app`; when parsed, it runs and exits the process with
// its exit code (so the wiring in commands.cc is this one call).
void register_live_command(CLI::App& app);

}  // namespace rehearse::cli
