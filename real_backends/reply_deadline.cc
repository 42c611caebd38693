// The watchdog behind ReplyDeadline: one thread per process, started on first use, waiting on a
// condition variable for the earliest armed deadline.
#include "real_backends/reply_deadline.h"

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/assert.h"

namespace rehearse::live {

namespace {

using Clock = std::chrono::steady_clock;

class Watchdog {
 public:
  Watchdog() : thread_([this] { watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  std::uint64_t arm(int socket, Clock::time_point deadline) {
    std::uint64_t id = 0;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      id = ++last_id_;
      armed_.emplace(id, Armed{socket, deadline, false});
    }
    changed_.notify_all();
    return id;
  }

  // Disarms under the lock, so the watchdog never shuts a socket down after its owner moved on
  // (the descriptor could be reused by then).
  void disarm(std::uint64_t id) {
    std::lock_guard<std::mutex> guard(mutex_);
    armed_.erase(id);
  }

  bool expired(std::uint64_t id) {
    std::lock_guard<std::mutex> guard(mutex_);
    const auto it = armed_.find(id);
    return it != armed_.end() && it->second.expired;
  }

 private:
  struct Armed {
    int socket;
    Clock::time_point deadline;
    bool expired;
  };

  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      Clock::time_point next = Clock::time_point::max();
      const Clock::time_point now = Clock::now();
      for (auto& [id, armed] : armed_) {
        if (armed.expired) continue;
        if (armed.deadline <= now) {
          armed.expired = true;
          ::shutdown(armed.socket, SHUT_RDWR);  // the blocked read sees end-of-stream
        } else if (armed.deadline < next) {
          next = armed.deadline;
        }
      }
      if (next == Clock::time_point::max()) {
        changed_.wait(lock);
      } else {
        changed_.wait_until(lock, next);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Armed> armed_;
  std::uint64_t last_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

Watchdog& watchdog() {
  static Watchdog instance;
  return instance;
}

}  // namespace

ReplyDeadline::ReplyDeadline(int socket, TimeUs timeout_us) {
  REHEARSE_ASSERT(timeout_us > 0);
  REHEARSE_ASSERT(socket >= 0);
  id_ = watchdog().arm(socket, Clock::now() + std::chrono::microseconds(timeout_us));
}

ReplyDeadline::~ReplyDeadline() { watchdog().disarm(id_); }

bool ReplyDeadline::expired() const { return watchdog().expired(id_); }

}  // namespace rehearse::live
