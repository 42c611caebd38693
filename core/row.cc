// Row versions: one allocation each (header, then the values), shared by reference count.
#include "core/row.h"

#include <algorithm>
#include <limits>
#include <new>

#include "core/assert.h"

namespace rehearse {

namespace {
const Value kNull;
}  // namespace

Row::Data* Row::allocate(std::size_t size, Writer writer) {
  REHEARSE_ASSERT(size <= std::numeric_limits<std::uint16_t>::max());
  void* memory = ::operator new(sizeof(Data) + size * sizeof(Value));
  Data* data = new (memory) Data();
  data->size = static_cast<std::uint16_t>(size);
  data->writer = writer;
  return data;
}

Row::Row(const std::vector<Value>& values, Writer writer) : data_(allocate(values.size(), writer)) {
  Value* slots = Row::values(data_);
  for (std::size_t i = 0; i < values.size(); ++i) new (slots + i) Value(values[i]);
}

Row::Row(const Row& other) noexcept : data_(other.data_) {
  if (data_ != nullptr) data_->refs.fetch_add(1, std::memory_order_relaxed);
}

Row& Row::operator=(const Row& other) noexcept {
  if (other.data_ != nullptr) other.data_->refs.fetch_add(1, std::memory_order_relaxed);
  release();
  data_ = other.data_;
  return *this;
}

Row& Row::operator=(Row&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    other.data_ = nullptr;
  }
  return *this;
}

void Row::release() noexcept {
  if (data_ == nullptr) return;
  if (data_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    Value* slots = values(data_);
    for (std::size_t i = 0; i < data_->size; ++i) slots[i].~Value();
    data_->~Data();
    ::operator delete(static_cast<void*>(data_));
  }
  data_ = nullptr;
}

const Value& Row::operator[](std::size_t slot) const {
  if (data_ == nullptr || slot >= data_->size) return kNull;
  return values(data_)[slot];
}

void Row::own(std::size_t size) {
  const bool unique = data_ != nullptr && data_->refs.load(std::memory_order_acquire) == 1;
  if (unique && data_->size >= size) return;
  const std::size_t old_size = this->size();
  Data* copy = allocate(std::max(size, old_size), writer());
  Value* slots = values(copy);
  for (std::size_t i = 0; i < copy->size; ++i) new (slots + i) Value(i < old_size ? values(data_)[i] : Value());
  release();
  data_ = copy;
}

void Row::set(std::size_t slot, Value value) {
  own(slot + 1);
  values(data_)[slot] = std::move(value);
}

void Row::set_writer(Writer writer) {
  if (this->writer() == writer && data_ != nullptr) return;
  own(size());
  data_->writer = writer;
}

}  // namespace rehearse
