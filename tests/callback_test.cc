// core/callback.h and core/block_pool.h: what std::function promised, without malloc.
#include "core/callback.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/block_pool.h"

namespace rehearse {
namespace {

// Counts its live copies, so that a leak or a double destruction shows.
struct Tracked {
  std::shared_ptr<int> live;
  std::array<char, 100> ballast{};  // too big to be held inline: a pool block
  int operator()(int x) const { return x + static_cast<int>(live.use_count()); }
};

TEST(CallbackTest, EmptyByDefaultAndFromAnEmptyStdFunction) {
  Callback<void()> none;
  EXPECT_FALSE(none);
  EXPECT_TRUE(none == nullptr);
  std::function<void()> empty;
  Callback<void()> from_empty = empty;
  EXPECT_FALSE(from_empty);  // not a callable that throws bad_function_call
  Callback<void()> from_null = static_cast<void (*)()>(nullptr);
  EXPECT_FALSE(from_null);
}

TEST(CallbackTest, SmallAndLargeCallablesCallCopyAndMove) {
  int calls = 0;
  Callback<int(int)> small = [&calls](int x) {
    ++calls;
    return x * 2;
  };
  EXPECT_EQ(small(21), 42);
  auto owner = std::make_shared<int>(0);
  Callback<int(int)> large = Tracked{owner};
  EXPECT_EQ(owner.use_count(), 2);
  Callback<int(int)> copy = large;
  EXPECT_EQ(owner.use_count(), 3);
  EXPECT_EQ(copy(1), 1 + 3);
  Callback<int(int)> moved = std::move(large);
  EXPECT_FALSE(large);  // NOLINT(bugprone-use-after-move): moved-from is empty, as documented
  EXPECT_EQ(owner.use_count(), 3);
  copy = nullptr;
  EXPECT_EQ(owner.use_count(), 2);
  moved = small;  // replaces the large one: its copy is destroyed
  EXPECT_EQ(owner.use_count(), 1);
  EXPECT_EQ(moved(5), 10);
  EXPECT_EQ(calls, 2);
}

TEST(CallbackTest, AMutableLambdaKeepsItsStateAcrossCalls) {
  Callback<int()> counter = [n = 0]() mutable { return ++n; };
  EXPECT_EQ(counter(), 1);
  EXPECT_EQ(counter(), 2);
  Callback<int()> copy = counter;  // copies the state as it is now
  EXPECT_EQ(copy(), 3);
  EXPECT_EQ(counter(), 3);
}

TEST(CallbackTest, ASelfAssignmentKeepsTheCallable) {
  auto owner = std::make_shared<int>(0);
  Callback<int(int)> large = Tracked{owner};
  Callback<int(int)>& alias = large;
  large = alias;
  EXPECT_TRUE(large);
  EXPECT_EQ(owner.use_count(), 2);
}

TEST(BlockPoolTest, BlocksAreDistinctWhileHeldAndReusedOnceGiven) {
  std::vector<std::pair<void*, std::size_t>> held;
  for (std::size_t i = 0; i < 5000; ++i) {
    const std::size_t bytes = 1 + i % 1024;
    held.emplace_back(block_pool::take(bytes), bytes);
    std::memset(held.back().first, 0xab, bytes);  // every byte is usable
  }
  std::vector<void*> sorted;
  for (const auto& [block, bytes] : held) sorted.push_back(block);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());  // none handed out twice
  for (const auto& [block, bytes] : held) block_pool::give(block, bytes);
  if (block_pool::recycles()) {
    void* again = block_pool::take(1 + 4999 % 1024);  // the last given of its class comes back first
    EXPECT_EQ(again, held.back().first);
    block_pool::give(again, 1 + 4999 % 1024);
  }
}

TEST(BlockPoolTest, AThreadsBlocksOutliveTheThread) {
  void* block = nullptr;
  std::thread([&block] {
    block = block_pool::take(200);
    std::memset(block, 1, 200);
  }).join();
  std::thread([&block] { block_pool::give(block, 200); }).join();  // another thread gives it back
  void* again = block_pool::take(200);
  std::memset(again, 2, 200);
  block_pool::give(again, 200);
}

TEST(PoolAllocatorTest, MapsAndSharedPointersUseIt) {
  PooledMap<std::string, int> map;
  for (int i = 0; i < 1000; ++i) map[std::to_string(i)] = i;
  EXPECT_EQ(map.size(), 1000U);
  EXPECT_EQ(map.find(std::string("500"))->second, 500);
  auto shared = make_pooled<std::string>(200, 'x');
  std::weak_ptr<std::string> weak = shared;
  EXPECT_EQ(shared->size(), 200U);
  shared.reset();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace rehearse
