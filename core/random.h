// Seeded pseudo-random streams. One seed expands into named, independent streams
// (scheduling, network, workload, faults, ...) so that drawing more numbers from one stream,
// such as adding a fault, does not reshuffle the others. xoshiro256** seeded by splitmix64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"

namespace rehearse {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a of a stream name: stable on every machine and compiler.
constexpr std::uint64_t stream_id(std::string_view name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

class Rng {
 public:
  Rng() : Rng(0, "default") {}
  Rng(std::uint64_t seed, std::string_view stream) {
    std::uint64_t state = seed ^ stream_id(stream);
    for (auto& word : state_) word = splitmix64(state);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). REQUIRES: bound > 0. A draw at or past the largest multiple of
  // `bound` not above UINT64_MAX (`limit`) is drawn again. With r = draw % bound, draw < limit
  // exactly when draw - r + bound <= UINT64_MAX (both sides' multiples of bound), so one
  // division a draw gives the draws and results of `limit = UINT64_MAX - UINT64_MAX % bound`
  // (tests/random_test.cc holds them equal).
  std::uint64_t below(std::uint64_t bound) {
    REHEARSE_ASSERT(bound > 0);
    std::uint64_t draw = next();
    std::uint64_t rest = draw % bound;
    while (draw - rest > UINT64_MAX - bound) {
      draw = next();
      rest = draw % bound;
    }
    return rest;
  }

  // Uniform in [low, high]. REQUIRES: low <= high. The span is computed in unsigned arithmetic,
  // so any range of int64 is drawn without overflow (and a narrower one as before).
  std::int64_t uniform(std::int64_t low, std::int64_t high) {
    REHEARSE_ASSERT(low <= high);
    const std::uint64_t span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    const std::uint64_t offset = span == UINT64_MAX ? next() : below(span + 1);
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + offset);
  }

  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  bool chance(double probability) { return unit() < probability; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

// One engine process's number: its instance (1, ...) and incarnation (1, ...) in one, as the
// simulator names its streams and lock clients.
constexpr int engine_process_number(int instance, int incarnation) { return incarnation + instance * 1000; }

// The random stream of one engine process (core/ports.h Random): `engine` is its name
// (engine-1, ...), `instance` its number among the scenario's engines (1, ...). Simulation
// and live mode name it alike, so `rehearse conform`'s two runs of one seed draw the same
// jitter (lock and DDL retries) in the same order.
inline std::string engine_stream_name(std::string_view engine, int instance, int incarnation) {
  return "engine-" + std::string(engine) + "-" + std::to_string(engine_process_number(instance, incarnation));
}

// When engine `instance` (1, ...) starts, within the scenario's start_jitter: the instance-th
// draw of the seed's "engine-starts" stream, in simulation and live mode alike.
inline std::int64_t engine_start_delay_us(std::uint64_t seed, int instance, std::int64_t low_us, std::int64_t high_us) {
  Rng starts(seed, "engine-starts");
  std::int64_t delay = 0;
  for (int i = 1; i <= instance; ++i) delay = starts.uniform(low_us, high_us);
  return delay;
}

}  // namespace rehearse
