// Overload shedding at a lock store node (`lock.max_ops_per_s`), and the one way every
// simulated lock store serves a request: admitted requests run their command and answer after
// the command's server time; shed ones are answered at once with an error (Redis's "max number
// of clients reached", a proxy's 503). Used by the server side of every lock store in sim/.
//
// The limit is a token bucket refilled at max_ops_per_s with room for a burst of a tenth of a
// second's worth: a steady max_ops_per_s is served, a synchronized burst larger than the
// allowance is cut (what a herd of clients retrying at the same instant meets).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "core/assert.h"
#include "core/model.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

class OverloadGate {
 public:
  // 0 = unlimited.
  explicit OverloadGate(std::int64_t max_ops_per_s)
      : max_ops_per_s_(max_ops_per_s), capacity_(std::max<std::int64_t>(1, max_ops_per_s / 10)) {
    REHEARSE_ASSERT(max_ops_per_s >= 0);
    tokens_micro_ = capacity_ * kMicro;
  }

  // Whether a request arriving at true time `now_us` is served. Shed requests cost nothing.
  bool admit(TimeUs now_us) {
    if (max_ops_per_s_ == 0) return true;
    REHEARSE_ASSERT(now_us >= refilled_at_us_);
    tokens_micro_ = std::min(capacity_ * kMicro, tokens_micro_ + (now_us - refilled_at_us_) * max_ops_per_s_);
    refilled_at_us_ = now_us;
    if (tokens_micro_ < kMicro) {
      ++shed_;
      return false;
    }
    tokens_micro_ -= kMicro;
    return true;
  }

  std::int64_t shed() const { return shed_; }

 private:
  static constexpr std::int64_t kMicro = 1'000'000;  // one token, in millionths
  std::int64_t max_ops_per_s_;
  std::int64_t capacity_;
  std::int64_t tokens_micro_ = 0;
  TimeUs refilled_at_us_ = 0;
  std::int64_t shed_ = 0;
};

// Serves one request at a store node, from a network handler: `command` runs now unless the
// gate sheds the request; its answer leaves after `busy_us` of server time. A shed request is
// answered with `shed` at once.
template <typename R>
void serve(Kernel& kernel, OverloadGate& gate, TimeUs busy_us, const std::function<R()>& command, R shed,
           Respond<R> respond) {
  if (!gate.admit(kernel.now())) {
    respond(std::move(shed));
    return;
  }
  R value = command();
  kernel.after(busy_us, [respond = std::move(respond), value = std::move(value)]() mutable { respond(std::move(value)); });
}

}  // namespace rehearse::sim
