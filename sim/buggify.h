// The simulator's BUGGIFY (core/buggify.h): which fault sites are switched on for this run,
// whether a site fires each time it is passed, and how often each fired. One per run, owned
// by the kernel so that every simulated thing can reach it; the engine reaches it through the
// FaultPoints port. Off unless the scenario (or `sweep --buggify`) turns it on: then each site
// draws from its own stream `buggify:<site name>`, first whether it is enabled, then its fires.
//
// Also the lock-client wrapper for the `lock-answers-slowly` site.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/buggify.h"
#include "core/ports.h"
#include "core/random.h"

namespace rehearse::sim {

class Kernel;

class Buggify final : public FaultPoints {
 public:
  explicit Buggify(std::uint64_t seed) : seed_(seed) {}

  // Turns buggify on for this run and draws, per site, whether it is switched on (with
  // `site_probability`; tests pass 1 to switch every site on). REQUIRES: not on yet.
  void enable(double site_probability = kSiteEnableProbability);
  bool on() const { return on_; }

  // False without drawing anything while buggify is off or the site is switched off.
  bool fires(FaultSite site) override;
  TimeUs draw_us(FaultSite site, TimeUs low_us, TimeUs high_us) override;
  const FaultSiteCounts& counts() const { return counts_; }

 private:
  static std::size_t index(FaultSite site) { return static_cast<std::size_t>(site); }

  std::uint64_t seed_;
  bool on_ = false;
  std::array<Rng, kFaultSiteCount> streams_{};
  FaultSiteCounts counts_;
};

// A lock client whose answers may reach the engine late (`lock-answers-slowly`): the call is
// made, then the reply is held back on the calling node. A late acquire eats into the lease's
// TTL, which counts from when the request was sent. Everything else is forwarded unchanged.
class SlowAnsweringLockClient final : public LockClient {
 public:
  SlowAnsweringLockClient(Kernel& kernel, std::unique_ptr<LockClient> inner);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  void close() override { inner_->close(); }

 private:
  void maybe_answer_late();

  Kernel& kernel_;
  std::unique_ptr<LockClient> inner_;
};

}  // namespace rehearse::sim
