#include "core/costs.h"

#include <cmath>

namespace rehearse {

double CostProfile::update_per_row_us_at(std::int64_t rows) const {
  double cost = update_per_row_us.empty() ? 0 : update_per_row_us.front().second;
  for (const auto& [batch, per_row] : update_per_row_us) {
    if (batch <= rows) cost = per_row;
  }
  return cost;
}

std::int64_t CostProfile::total_us(double per_us, std::int64_t count) {
  return std::llround(per_us * static_cast<double>(count));
}

const CostProfile& builtin_cost_profile() {
  static const CostProfile profile;
  return profile;
}

const std::vector<std::string>& cost_profile_keys() {
  static const std::vector<std::string> keys = {
      "statement_base_us",  "ddl_us",       "update_per_row_us", "insert_per_row_us",  "scan_per_row_us",
      "index_build_per_row_us", "table_rewrite_per_row_us", "trigger_per_row_us", "row_lock_hold_us",
      "app_write_us",       "app_read_us",  "lookup_us",         "replica_apply_per_row_us", "replica_base_delay_us"};
  return keys;
}

double* cost_field(CostProfile& p, const std::string& key) {
  const std::pair<const char*, double*> fields[] = {
      {"statement_base_us", &p.statement_base_us},
      {"ddl_us", &p.ddl_us},
      {"insert_per_row_us", &p.insert_per_row_us},
      {"scan_per_row_us", &p.scan_per_row_us},
      {"index_build_per_row_us", &p.index_build_per_row_us},
      {"table_rewrite_per_row_us", &p.table_rewrite_per_row_us},
      {"trigger_per_row_us", &p.trigger_per_row_us},
      {"row_lock_hold_us", &p.row_lock_hold_us},
      {"app_write_us", &p.app_write_us},
      {"app_read_us", &p.app_read_us},
      {"lookup_us", &p.lookup_us},
      {"replica_apply_per_row_us", &p.replica_apply_per_row_us},
      {"replica_base_delay_us", &p.replica_base_delay_us},
  };
  for (const auto& [name, field] : fields) {
    if (key == name) return field;
  }
  return nullptr;
}

}  // namespace rehearse
