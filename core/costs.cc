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

namespace {
// calibrate's busy_host_wait_max_us is the largest of about 400 waits (measure_busy_host): the
// largest of n samples stands for the 1 - 1/n quantile, not for q = 1.
constexpr double kBusyHostMaxQuantile = 1 - 1.0 / 400;
}  // namespace

double CostProfile::busy_host_wait_us_at(double q) const {
  if (q <= 0.5) return busy_host_wait_p50_us;
  const auto linear = [q](double q0, double v0, double q1, double v1) { return v0 + (v1 - v0) * (q - q0) / (q1 - q0); };
  if (q <= 0.9) return linear(0.5, busy_host_wait_p50_us, 0.9, busy_host_wait_p90_us);
  if (q <= 0.99) return linear(0.9, busy_host_wait_p90_us, 0.99, busy_host_wait_p99_us);
  // Past the p99 the tail goes on as the p90 -> p99 stretch suggests, each further tenth of the
  // probability adding what that step did (an exponential tail), from the p99 and from the
  // measured max, whichever is longer: a run draws thousands of waits, more than calibrate did.
  const double decade = std::max(0.0, busy_host_wait_p99_us - busy_host_wait_p90_us);
  const auto tail_from = [q, decade](double q0, double v0) { return v0 + decade * std::log10((1 - q0) / std::max(1.0 - q, 1e-9)); };
  const double from_p99 = tail_from(0.99, busy_host_wait_p99_us);
  if (q <= kBusyHostMaxQuantile) {
    return std::max(from_p99, linear(0.99, busy_host_wait_p99_us, kBusyHostMaxQuantile, busy_host_wait_max_us));
  }
  return std::max(from_p99, tail_from(kBusyHostMaxQuantile, busy_host_wait_max_us));
}

double CostProfile::app_insert_us() const {
  return std::max(statement_base_us, app_write_us - update_per_row_us_at(1) + insert_per_row_us);
}

std::int64_t CostProfile::total_us(double per_us, std::int64_t count) {
  const double total = per_us * static_cast<double>(count);
  // std::llround (halves away from zero) without its library call below 2^52, where every
  // cost is: there the truncation and the fraction it leaves are exact (tests/costs_test.cc).
  if (std::fabs(total) < 0x1p52) {
    const auto whole = static_cast<std::int64_t>(total);
    const double fraction = total - static_cast<double>(whole);
    return whole + static_cast<std::int64_t>(fraction >= 0.5) - static_cast<std::int64_t>(fraction <= -0.5);
  }
  return std::llround(total);
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
    {"trigger_create_us", &CostProfile::trigger_create_us},
    {"trigger_ddl_us", &CostProfile::trigger_ddl_us},
    {"app_write_us", &CostProfile::app_write_us},
    {"app_read_us", &CostProfile::app_read_us},
    {"app_idle_wake_us", &CostProfile::app_idle_wake_us},
    {"lookup_us", &CostProfile::lookup_us},
    {"batch_overhead_us", &CostProfile::batch_overhead_us},
    {"lag_read_us", &CostProfile::lag_read_us},
    {"lag_read_per_replica_us", &CostProfile::lag_read_per_replica_us},
    {"busy_host_wait_p50_us", &CostProfile::busy_host_wait_p50_us},
    {"busy_host_wait_p90_us", &CostProfile::busy_host_wait_p90_us},
    {"busy_host_wait_p99_us", &CostProfile::busy_host_wait_p99_us},
    {"busy_host_wait_max_us", &CostProfile::busy_host_wait_max_us},
    {"parallel_write_cores", &CostProfile::parallel_write_cores},
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
