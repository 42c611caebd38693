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

void Row::destroy(Data* data) noexcept {
  Value* slots = values(data);
  for (std::size_t i = 0; i < data->size; ++i) slots[i].~Value();
  data->~Data();
  ::operator delete(static_cast<void*>(data));
}

const Value& Row::null_value() { return kNull; }

void Row::own(std::size_t size) {
  const bool unique = data_ != nullptr && data_->refs == 1;
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
