// One version of a table row: its values by storage slot and who wrote it last. A Row is a
// handle to an immutable, reference-counted version, so copies of a table (a primary, its
// replicas, the snapshots the checkers read) share every row they have not changed; a write
// through a shared handle copies that one row first. Slots past the stored ones read as NULL,
// so adding a column touches no row.
//
// The reference count is a plain integer, not an atomic: a version never leaves the run that
// made it, and a run is one thread's (a sweep's workers each run their own seeds; nothing a
// scenario shares between runs holds a Row). A plain count lets the processor overlap the cache
// misses of a table's worth of handle copies (a snapshot) and releases (its end), which a locked
// instruction per handle serialises. Values are another matter: their text boxes do cross
// threads (a compiled scenario's literals), so theirs stays atomic (core/value.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/value.h"

namespace rehearse {

enum class Writer : std::uint8_t { initial, engine, old_code, new_code };

class Row {
 public:
  Row() = default;  // no values, written by the initial load
  Row(const std::vector<Value>& values, Writer writer);
  // Inline: tables, replicas and snapshots copy and drop row handles by the million; only the
  // last holder's release (destroy) leaves the header.
  Row(const Row& other) noexcept : data_(other.data_) {
    if (data_ != nullptr) ++data_->refs;
  }
  Row(Row&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  Row& operator=(const Row& other) noexcept {
    if (other.data_ != nullptr) ++other.data_->refs;
    release();
    data_ = other.data_;
    return *this;
  }
  Row& operator=(Row&& other) noexcept {
    if (this != &other) {
      release();
      data_ = other.data_;
      other.data_ = nullptr;
    }
    return *this;
  }
  ~Row() { release(); }

  std::size_t size() const { return data_ == nullptr ? 0 : data_->size; }
  // NULL past the stored slots.
  const Value& operator[](std::size_t slot) const {
    if (data_ == nullptr || slot >= data_->size) return null_value();
    return values(data_)[slot];
  }
  Writer writer() const { return data_ == nullptr ? Writer::initial : data_->writer; }
  // True when both handles are the same version (not merely equal values).
  bool same_version(const Row& other) const { return data_ == other.data_; }
  // The version's identity while some handle holds it (nullptr: a row with no values).
  const void* version() const { return data_; }

  // Writes, copy-on-write: other holders of this version keep it unchanged.
  void set(std::size_t slot, Value value);
  void set_writer(Writer writer);

 private:
  struct Data {
    std::uint32_t refs = 1;
    std::uint16_t size = 0;
    Writer writer = Writer::initial;
  };
  static_assert(sizeof(Data) == 8);

  static Data* allocate(std::size_t size, Writer writer);
  static Value* values(Data* data) { return reinterpret_cast<Value*>(data + 1); }
  static const Value* values(const Data* data) { return reinterpret_cast<const Value*>(data + 1); }
  void release() noexcept {
    if (data_ == nullptr) return;
    if (--data_->refs == 0) destroy(data_);
    data_ = nullptr;
  }
  static void destroy(Data* data) noexcept;  // the last holder's: the values, then the block
  static const Value& null_value();
  // Makes this handle the only holder of its version, with at least `size` slots.
  void own(std::size_t size);

  Data* data_ = nullptr;
};

}  // namespace rehearse
