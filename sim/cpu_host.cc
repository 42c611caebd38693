#include "sim/cpu_host.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/assert.h"

namespace rehearse::sim {

namespace {
// Work left below this is done: completions are scheduled on whole microseconds.
constexpr double kDoneUs = 0.5;
}  // namespace

CpuHost::CpuHost(Kernel& kernel, int cores, double write_cores, double background)
    : kernel_(kernel), cores_(cores), write_cores_(write_cores > 0 ? write_cores : cores), background_(background) {
  REHEARSE_ASSERT(cores > 0);
  REHEARSE_ASSERT(write_cores_ >= 1.0);
  REHEARSE_ASSERT(background >= 0.0);
}

double CpuHost::write_cores_of(double parallel_write_cores, int cores) {
  return std::clamp(parallel_write_cores, 1.0, std::max(1.0, static_cast<double>(cores)));
}

double CpuHost::rate() const {
  if (jobs_.empty()) return 1.0;
  const auto running = static_cast<double>(jobs_.size());
  return std::min({1.0, static_cast<double>(cores_) / (running + background_), write_cores_ / running});
}

void CpuHost::advance() {
  const TimeUs now = kernel_.now();
  const double done = static_cast<double>(now - updated_us_) * rate();
  for (Job& job : jobs_) job.remaining_us -= done;
  updated_us_ = now;
}

std::size_t CpuHost::migration_running() const {
  return static_cast<std::size_t>(std::count_if(jobs_.begin(), jobs_.end(), [](const Job& job) { return job.migration; }));
}

void CpuHost::run(TimeUs work_us, Callback<void()> done, bool migration) {
  advance();
  jobs_.push_back(Job{static_cast<double>(std::max<TimeUs>(work_us, 1)), std::move(done), migration});
  schedule_next();
}

void CpuHost::schedule_next() {
  const std::uint64_t generation = ++generation_;
  if (jobs_.empty()) return;
  double least = jobs_.front().remaining_us;
  for (const Job& job : jobs_) least = std::min(least, job.remaining_us);
  const auto delay = std::max<TimeUs>(1, static_cast<TimeUs>(std::ceil(least / rate() - kDoneUs)));
  kernel_.after(delay, [this, generation] {
    if (generation != generation_) return;  // superseded by a later arrival or completion
    advance();
    std::vector<std::function<void()>> finished;
    std::vector<Job> running;
    for (Job& job : jobs_) {
      if (job.remaining_us <= kDoneUs) {
        finished.push_back(std::move(job.done));
      } else {
        running.push_back(std::move(job));
      }
    }
    jobs_ = std::move(running);
    schedule_next();
    for (auto& done : finished) done();
  });
}

}  // namespace rehearse::sim
