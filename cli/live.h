// `rehearse live CONFIG [--prepare] [--dry-run] [--json]`: the migration against real
// PostgreSQL and Redis (../shared/spec/live.md, docs/live.md). Exit codes: 0 pass, 1 violation,
// 2 bad config, 3 backend unreachable.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace rehearse::cli {

struct LiveOptions {
  std::string config;
  bool prepare = false;
  bool dry_run = false;
  bool json = false;
};

int live_command(const LiveOptions& options);

// Declares the `live` subcommand on `app`; when parsed, it runs and exits the process with
// its exit code (so the wiring in commands.cc is this one call).
void register_live_command(CLI::App& app);

}  // namespace rehearse::cli
