// The request counts file between the live runner and its engine processes.
#include "real_backends/app_monitor.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rehearse::live {

Status publish_request_counts(const std::string& path, const std::map<std::string, RequestCounts>& counts) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& [region, count] : counts) body[region] = {count.requests, count.failed};
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << body.dump();
    if (!out) return Status::unavailable(fmt::format("cannot write the request counts to {}", partial));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    return Status::unavailable(fmt::format("cannot rename {} to {}", partial, path));
  }
  return Status::ok();
}

Result<RequestCounts> FileApplicationMonitor::requests(const std::string& region) {
  std::ifstream in(path_);
  if (!in) return Status::unavailable(fmt::format("no request counts at {} yet", path_));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::unavailable(fmt::format("{} is not a JSON object", path_));
  auto found = parsed.find(region);
  if (found == parsed.end() || !found->is_array() || found->size() != 2 || !(*found)[0].is_number_integer() ||
      !(*found)[1].is_number_integer()) {
    return Status::unavailable(fmt::format("{} has no counts for {}", path_, region));
  }
  return RequestCounts{(*found)[0].get<std::int64_t>(), (*found)[1].get<std::int64_t>()};
}

}  // namespace rehearse::live
