// Size-class free lists per thread over process-wide slabs (core/block_pool.h).
#include "core/block_pool.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace rehearse::block_pool {

namespace {

// 16, 32, ..., 256 bytes in steps of 16 (callbacks and map nodes come in many sizes), then 512, 1024.
constexpr std::size_t kStep = 16;
constexpr std::size_t kStepped = 16;  // classes 0..15
constexpr std::size_t kClasses = kStepped + 2;
constexpr std::size_t kLargest = 1024;
constexpr std::size_t kSlabBytes = 64 * 1024;

struct FreeBlock {
  FreeBlock* next;
};

std::size_t class_of(std::size_t bytes) {
  if (bytes <= kStep * kStepped) return bytes == 0 ? 0 : (bytes - 1) / kStep;
  return bytes <= 512 ? kStepped : kStepped + 1;
}

std::size_t class_size(std::size_t c) { return c < kStepped ? (c + 1) * kStep : (c == kStepped ? 512 : 1024); }

// A free list: blocks linked through their first bytes, and its last block (so that a whole
// list moves in O(1)).
struct FreeList {
  FreeBlock* head = nullptr;
  FreeBlock* tail = nullptr;
  void push(FreeBlock* block) {
    block->next = head;
    if (head == nullptr) tail = block;
    head = block;
  }
  FreeBlock* pop() {
    FreeBlock* block = head;
    head = block->next;
    if (head == nullptr) tail = nullptr;
    return block;
  }
  // Moves every block of `other` to the front of this list.
  void take_all(FreeList& other) {
    if (other.head == nullptr) return;
    other.tail->next = head;
    if (head == nullptr) tail = other.tail;
    head = other.head;
    other = FreeList{};
  }
};

// What every thread shares: the slabs (kept so that they stay reachable, never freed) and the
// blocks of threads that ended.
struct Shared {
  std::mutex mutex;
  std::vector<void*> slabs;
  std::array<FreeList, kClasses> orphans{};
};

Shared& shared() {
  static Shared* instance = new Shared();  // never destroyed: threads may end after static destruction begins
  return *instance;
}

// This thread's free lists: trivially destructible, so that a block given back after the
// thread's farewell below (a static destroyed at exit) still lands somewhere harmless.
thread_local std::array<FreeList, kClasses> t_lists{};

// Hands the thread's free blocks to the process when the thread ends.
struct Farewell {
  ~Farewell() {
    Shared& all = shared();
    const std::lock_guard<std::mutex> hold(all.mutex);
    for (std::size_t c = 0; c < kClasses; ++c) all.orphans[c].take_all(t_lists[c]);
  }
};
thread_local Farewell t_farewell;

// Fills the empty `list` with blocks of class `c`: the orphans of ended threads, else a new slab.
void refill(FreeList& list, std::size_t c) {
  static_cast<void>(&t_farewell);  // constructed with the thread's first refill, so that it runs at the thread's end
  const std::size_t size = class_size(c);
  Shared& all = shared();
  const std::lock_guard<std::mutex> hold(all.mutex);
  if (all.orphans[c].head != nullptr) {
    list.take_all(all.orphans[c]);
    return;
  }
  auto* slab = static_cast<unsigned char*>(::operator new(kSlabBytes));
  all.slabs.push_back(slab);
  for (std::size_t offset = kSlabBytes / size * size; offset >= size; offset -= size) {
    list.push(reinterpret_cast<FreeBlock*>(slab + offset - size));
  }
}

}  // namespace

// Under AddressSanitizer every block is its own allocation, so that a use after free or an
// overflow of a callback is still caught (a recycled block would hide it); tests/alloc turns
// recycling on to count what a run allocates.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycleByDefault = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kRecycleByDefault = false;
#else
constexpr bool kRecycleByDefault = true;
#endif
#else
constexpr bool kRecycleByDefault = true;
#endif

namespace {
std::atomic<bool> g_recycle{kRecycleByDefault};
}  // namespace

bool recycles() { return g_recycle.load(std::memory_order_relaxed); }
void recycle_from_now() { g_recycle.store(true, std::memory_order_relaxed); }

void* take(std::size_t bytes) {
  if (bytes > kLargest) return ::operator new(bytes);
  const std::size_t c = class_of(bytes);
  // Not recycling: a block of the whole class, so that it may join a free list if recycling starts.
  if (!recycles()) return ::operator new(class_size(c));
  FreeList& list = t_lists[c];
  if (list.head == nullptr) refill(list, c);
  return list.pop();
}

void give(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes > kLargest || !recycles()) {
    ::operator delete(block);
    return;
  }
  t_lists[class_of(bytes)].push(static_cast<FreeBlock*>(block));
}

}  // namespace rehearse::block_pool
