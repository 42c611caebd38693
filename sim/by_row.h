// Values kept per row id by an application server (its latest acknowledged write per row, the
// apply order of its latest applied write per row): looked up on every write's reply, so a
// vector indexed by id (a simulated table's ids are dense: 1..rows, then the inserted ones)
// instead of a tree walked per reply. Iterated in id order, as the std::map it replaced.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/assert.h"

namespace rehearse::sim {

template <typename T>
class ByRow {
 public:
  // The value of row `id`, default-constructed on first use. REQUIRES: id >= 0.
  T& operator[](std::int64_t id) {
    REHEARSE_ASSERT(id >= 0);
    const auto at = static_cast<std::size_t>(id);
    if (at >= slots_.size()) slots_.resize(std::max(at + 1, slots_.size() * 2), kNone);
    if (slots_[at] == kNone) {
      slots_[at] = static_cast<std::uint32_t>(items_.size());
      items_.emplace_back(id, T{});
    }
    return items_[slots_[at]].second;
  }

  // The value of row `id`, or nullptr when it has none.
  const T* find(std::int64_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= slots_.size()) return nullptr;
    const std::uint32_t slot = slots_[static_cast<std::size_t>(id)];
    return slot == kNone ? nullptr : &items_[slot].second;
  }

  // f(id, value&) for every row that has a value, in increasing id order.
  template <typename F>
  void for_each(F&& f) {
    visit(*this, f);
  }
  template <typename F>
  void for_each(F&& f) const {
    visit(*this, f);
  }

  std::size_t size() const { return items_.size(); }

  void clear() {
    slots_.clear();
    items_.clear();
  }

 private:
  // The one walk behind both for_each: `Self` is ByRow or const ByRow, so f sees T& or const T&.
  template <typename Self, typename F>
  static void visit(Self& self, F& f) {
    for (std::size_t id = 0; id < self.slots_.size(); ++id) {
      if (self.slots_[id] != kNone) f(static_cast<std::int64_t>(id), self.items_[self.slots_[id]].second);
    }
  }

  static constexpr std::uint32_t kNone = UINT32_MAX;
  std::vector<std::uint32_t> slots_;                 // id -> index in items_, kNone for none
  std::vector<std::pair<std::int64_t, T>> items_;  // in the order rows were first met
};

}  // namespace rehearse::sim
