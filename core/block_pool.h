// Recycled memory blocks for what a simulated run makes and drops by the thousand (callbacks,
// per-request state, map nodes; not row versions or text values, which stay on the allocator
// for its locality: docs/performance.md): size classes of 16 to 1,024 bytes, each a free list
// per thread, carved from 64 KiB slabs that are never returned. A run in steady state takes its
// blocks from the free lists (tests/alloc). A thread that ends hands its free blocks to the
// process, where the next thread to run out takes them; the slabs stay registered, so memory is
// the high-water mark of blocks in use at once, not a count of runs.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace rehearse::block_pool {

// A block of at least `bytes`, aligned for any fundamental type. Above 1,024 bytes: operator new.
void* take(std::size_t bytes);
// Returns a block from take(bytes) (the same `bytes`).
void give(void* block, std::size_t bytes) noexcept;

// Whether blocks are recycled: always, except under AddressSanitizer (where each block is an
// allocation of its own, so that nothing is hidden from it).
bool recycles();
// Recycles from now on, even under AddressSanitizer: for tests that count allocations. Never
// turned off again (a recycled block must not reach operator delete).
void recycle_from_now();

}  // namespace rehearse::block_pool

namespace rehearse {

// An allocator of pool blocks, for std containers and std::allocate_shared.
template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned types are not supported");
    return static_cast<T*>(block_pool::take(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { block_pool::give(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

// A std::map whose nodes are pool blocks.
template <typename K, typename V>
using PooledMap = std::map<K, V, std::less<>, PoolAllocator<std::pair<const K, V>>>;

// std::make_shared, with the object and its control block in one pool block.
template <typename T, typename... A>
std::shared_ptr<T> make_pooled(A&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>{}, std::forward<A>(args)...);
}

}  // namespace rehearse
