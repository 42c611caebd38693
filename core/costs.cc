#include "core/costs.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

namespace rehearse {

double CostProfile::update_per_row_us_at(std::int64_t rows) const {
  double cost = update_per_row_us.empty() ? 0 : update_per_row_us.front().second;
  for (const auto& [batch, per_row] : update_per_row_us) {
    if (batch <= rows) cost = per_row;
  }
  return cost;
}

double CostProfile::busy_host_wait_us_at(double q) const {
  const std::pair<double, double> points[] = {{0.5, busy_host_wait_p50_us},
                                              {0.9, busy_host_wait_p90_us},
                                              {0.99, busy_host_wait_p99_us},
                                              {1, busy_host_wait_max_us}};
  if (q <= 0.5) return busy_host_wait_p50_us;
  for (std::size_t i = 1; i < std::size(points); ++i) {
    const auto& [q0, v0] = points[i - 1];
    const auto& [q1, v1] = points[i];
    if (q > q1) continue;
    const double linear = v0 + (v1 - v0) * (q - q0) / (q1 - q0);
    if (q1 < 1) return linear;
    // Beyond the p99: calibrate's max is that of about a hundred samples, about the p99 itself,
    // where a run draws thousands. The tail goes on as the p90..p99 stretch suggests, each
    // further tenth of the probability adding what the p90 -> p99 step did (an exponential
    // tail), and never below the measured points.
    const double decade = std::max(0.0, busy_host_wait_p99_us - busy_host_wait_p90_us);
    const double exponential = busy_host_wait_p99_us + decade * std::log10(0.01 / std::max(1.0 - q, 1e-9));
    return std::max(linear, exponential);
  }
  return busy_host_wait_max_us;
}

double CostProfile::app_insert_us() const {
  return std::max(statement_base_us, app_write_us - update_per_row_us_at(1) + insert_per_row_us);
}

std::int64_t CostProfile::total_us(double per_us, std::int64_t count) {
  return std::llround(per_us * static_cast<double>(count));
}

const CostProfile& builtin_cost_profile() {
  static const CostProfile profile;
  return profile;
}

namespace {

// Every key of a profile, in the order profiles are written, with its field; update_per_row_us
// (a table by batch size) is the one that is not a plain number.
constexpr std::pair<const char*, double CostProfile::*> kKeys[] = {
    {"statement_base_us", &CostProfile::statement_base_us},
    {"ddl_us", &CostProfile::ddl_us},
    {"update_per_row_us", nullptr},
    {"insert_per_row_us", &CostProfile::insert_per_row_us},
    {"scan_per_row_us", &CostProfile::scan_per_row_us},
    {"index_build_per_row_us", &CostProfile::index_build_per_row_us},
    {"table_rewrite_per_row_us", &CostProfile::table_rewrite_per_row_us},
    {"trigger_per_row_us", &CostProfile::trigger_per_row_us},
    {"trigger_bypass_per_row_us", &CostProfile::trigger_bypass_per_row_us},
    {"row_lock_hold_us", &CostProfile::row_lock_hold_us},
    {"catalog_reload_us", &CostProfile::catalog_reload_us},
    {"trigger_first_call_us", &CostProfile::trigger_first_call_us},
    {"app_write_us", &CostProfile::app_write_us},
    {"app_read_us", &CostProfile::app_read_us},
    {"lookup_us", &CostProfile::lookup_us},
    {"batch_overhead_us", &CostProfile::batch_overhead_us},
    {"lag_read_us", &CostProfile::lag_read_us},
    {"lag_read_per_replica_us", &CostProfile::lag_read_per_replica_us},
    {"busy_host_wait_p50_us", &CostProfile::busy_host_wait_p50_us},
    {"busy_host_wait_p90_us", &CostProfile::busy_host_wait_p90_us},
    {"busy_host_wait_p99_us", &CostProfile::busy_host_wait_p99_us},
    {"busy_host_wait_max_us", &CostProfile::busy_host_wait_max_us},
    {"replica_apply_per_row_us", &CostProfile::replica_apply_per_row_us},
    {"replica_base_delay_us", &CostProfile::replica_base_delay_us},
};

}  // namespace

const std::vector<std::string>& cost_profile_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> names;
    for (const auto& [name, field] : kKeys) names.emplace_back(name);
    return names;
  }();
  return keys;
}

double* cost_field(CostProfile& profile, const std::string& key) {
  for (const auto& [name, field] : kKeys) {
    if (key == name) return field == nullptr ? nullptr : &(profile.*field);
  }
  return nullptr;
}

}  // namespace rehearse
