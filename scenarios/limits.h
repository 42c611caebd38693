// What a scenario may ask for (docs/scenarios.md, "Limits"). Each limit is far above what a
// real rehearsal needs and far below what would make a run take minutes or gigabytes; a file
// past one is refused at load time (exit 2) with the file, the line, the key, the limit and why.
// The YAML itself is bounded in scenarios/yaml_input.h (size, nesting, values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/model.h"

namespace rehearse {

constexpr int kMaxRegions = 64;                      // AWS, GCP and Azure have fewer than 64 regions each
constexpr int kMaxReplicasInAll = 256;               // read replicas summed over the regions
constexpr std::size_t kMaxColumns = 1600;            // PostgreSQL's own limit of columns per table
constexpr std::int64_t kMaxRows = 100'000'000;       // rows of the simulated table
constexpr std::size_t kMaxFaults = 10'000;           // entries of `faults`
constexpr TimeUs kMaxDuration = 7 * 24 * kHour;      // simulated time of one run
constexpr std::size_t kMaxErrorsShown = 20;          // load errors printed; then "... and N more"
constexpr std::size_t kMaxListedNames = 20;          // names listed in one message; then "... (N in all)"

// The memory one simulated run of a scenario may be estimated to need before it is refused:
// 4 GiB unless set (the CLI's --memory-limit). 0 = no limit.
constexpr std::uint64_t kDefaultMemoryLimit = std::uint64_t{4} << 30;
void set_memory_limit(std::uint64_t bytes);
std::uint64_t memory_limit();

// What one simulated run of a scenario is estimated to need: the table's copies and the
// history of its requests (scenarios/limits.cc says how it was measured).
struct MemoryEstimate {
  std::uint64_t rows = 0;
  std::uint64_t columns = 0;  // including the ones the migration adds
  std::uint64_t copies = 0;   // databases and snapshots holding the table
  std::uint64_t table_bytes = 0;
  std::uint64_t requests = 0;  // application requests and faults over the run
  bool faults_dominate = false;  // random_faults draw more of them than the workload sends
  std::string duration;
  std::uint64_t traffic_bytes = 0;
  std::uint64_t base_bytes = 0;
  std::uint64_t total() const;  // saturates at 2^64-1
  std::string explain() const;  // "table N rows x C columns in K copies: ...; R requests ...: ..."
};
MemoryEstimate estimate_memory(const Scenario& scenario);
// "3.5 GiB", "120 MiB", "512 bytes".
std::string format_bytes(std::uint64_t bytes);

}  // namespace rehearse
