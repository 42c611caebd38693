// Switching fault sites on per run and deciding, from each site's own stream, when they fire.
#include "sim/buggify.h"

#include <string>

#include "core/assert.h"
#include "sim/kernel.h"

namespace rehearse::sim {

namespace {
constexpr TimeUs kSlowLockAnswerMaxUs = 2 * kSec;
}  // namespace

void Buggify::enable(double site_probability) {
  REHEARSE_ASSERT(!on_);
  REHEARSE_ASSERT(site_probability >= 0 && site_probability <= 1);
  on_ = true;
  counts_.on = true;
  for (const FaultSiteInfo& info : all_fault_sites()) {
    Rng& stream = streams_[index(info.site)];
    stream = Rng(seed_, std::string("buggify:") + info.name);
    counts_.enabled[index(info.site)] = stream.chance(site_probability);
  }
}

bool Buggify::fires(FaultSite site) {
  const std::size_t i = index(site);
  REHEARSE_ASSERT(i < kFaultSiteCount);
  if (!on_ || !counts_.enabled[i]) return false;
  if (!streams_[i].chance(fault_site_info(site).fire_probability)) return false;
  ++counts_.fired[i];
  return true;
}

TimeUs Buggify::draw_us(FaultSite site, TimeUs low_us, TimeUs high_us) {
  REHEARSE_ASSERT(0 <= low_us && low_us <= high_us);
  REHEARSE_ASSERT(on_);  // only a site that fired asks for a duration
  return streams_[index(site)].uniform(low_us, high_us);
}

SlowAnsweringLockClient::SlowAnsweringLockClient(Kernel& kernel, std::unique_ptr<LockClient> inner)
    : kernel_(kernel), inner_(std::move(inner)) {
  REHEARSE_ASSERT(inner_ != nullptr);
}

void SlowAnsweringLockClient::maybe_answer_late() {
  Buggify& buggify = kernel_.buggify();
  if (!buggify.fires(FaultSite::lock_answers_slowly)) return;
  const TimeUs late_us = buggify.draw_us(FaultSite::lock_answers_slowly, 0, kSlowLockAnswerMaxUs);
  kernel_.sleep_until(kernel_.now() + late_us);
}

Result<Lease> SlowAnsweringLockClient::try_acquire(TimeUs ttl_us) {
  Result<Lease> result = inner_->try_acquire(ttl_us);
  maybe_answer_late();
  return result;
}

Status SlowAnsweringLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  Status status = inner_->renew(lease, ttl_us);
  maybe_answer_late();
  return status;
}

Status SlowAnsweringLockClient::release(const Lease& lease) {
  Status status = inner_->release(lease);
  maybe_answer_late();
  return status;
}

}  // namespace rehearse::sim
