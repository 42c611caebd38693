// The application's request counts, from the live runner (which drives the traffic) to its
// engine processes (whose health gate reads the error rate, core/ports.h ApplicationMonitor).
// The runner publishes every region's cumulative counts to a small JSON file as the run goes
// ({"us-east-1": [requests, failed], ...}), replaced atomically (written beside, then renamed);
// each engine process reads it when its gate asks. As an operator's gate reads a metrics system.
#pragma once

#include <map>
#include <string>

#include "core/ports.h"

namespace rehearse::live {

// Writes `counts` to `path` atomically. Unavailable (naming the path) when it cannot.
Status publish_request_counts(const std::string& path, const std::map<std::string, RequestCounts>& counts);

// Reads the file publish_request_counts writes. Unavailable while it is absent or unreadable,
// and for a region it does not list (the gate then judges the replication lag alone).
class FileApplicationMonitor final : public ApplicationMonitor {
 public:
  explicit FileApplicationMonitor(std::string path) : path_(std::move(path)) {}
  Result<RequestCounts> requests(const std::string& region) override;

 private:
  std::string path_;
};

}  // namespace rehearse::live
