// The wall clock, seeded randomness, threads, the shared history of live runs and its wire
// form between engine processes and the runner.
#include "real_backends/live_ports.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

namespace rehearse::live {

namespace {
constexpr TimeUs kStoppedClockJumpUs = 24 * kHour;  // past every deadline of a stopping engine
constexpr TimeUs kSleepSliceUs = 50 * kMs;          // how often a sleeper looks at the stop flag

TimeUs steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::atomic<bool> g_pause_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_pause_request(int signal) { g_pause_requested.store(signal == SIGUSR1); }

// Writes all of `text` (one line: a killed process may leave a torn last line, never a torn
// middle one, because each line is one write(2) under the history's mutex).
void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;  // the runner is gone: nothing left to tell (ignored on purpose)
    done += static_cast<std::size_t>(wrote);
  }
}
}  // namespace

TimeUs RealClock::now() {
  const TimeUs wall = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return stop_.stopping.load() ? wall + kStoppedClockJumpUs : wall;
}

void RealClock::sleep_for(TimeUs duration_us) {
  const TimeUs until = steady_now_us() + std::max<TimeUs>(duration_us, 0);
  for (;;) {
    const TimeUs now = steady_now_us();
    if (now >= until || stop_.stopping.load()) return;
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(until - now, kSleepSliceUs)));
  }
}

RealTasks::~RealTasks() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

void RealTasks::spawn(const std::string& /*name*/, std::function<void()> task) {
  std::lock_guard<std::mutex> guard(mutex_);
  threads_.emplace_back(std::move(task));
}

LiveHistory::LiveHistory() : start_(std::chrono::steady_clock::now()) {}
LiveHistory::LiveHistory(std::chrono::steady_clock::time_point start) : start_(start) {}

TimeUs LiveHistory::elapsed_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
}

std::int64_t LiveHistory::start_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch()).count();
}

void LiveHistory::forward_to(int fd) {
  std::lock_guard<std::mutex> guard(mutex_);
  forward_fd_ = fd;
}

void LiveHistory::note_phase(const Event& event) {
  if (event.kind != EventKind::phase) return;
  first_phase_.try_emplace(event.detail + "@" + event.region, event.time_us);
}

void LiveHistory::note_fault(const Event& event) {
  if (event.kind == EventKind::fault_start) {
    faults_.push_back(FaultSpan{event.node, event.detail, event.time_us, -1});
    return;
  }
  if (event.kind != EventKind::fault_end) return;
  for (FaultSpan& span : faults_) {
    if (span.end_us < 0 && span.node == event.node) {
      span.end_us = event.time_us;
      return;
    }
  }
}

std::string LiveHistory::fault_during(TimeUs from_us, TimeUs to_us, const std::string& kind_prefix) const {
  std::lock_guard<std::mutex> guard(mutex_);
  for (const FaultSpan& span : faults_) {
    const bool overlaps = span.start_us <= to_us && (span.end_us < 0 || span.end_us >= from_us);
    if (overlaps && span.detail.rfind(kind_prefix, 0) == 0) return span.detail;
  }
  return "";
}

void LiveHistory::die_after_phase(const std::string& phase, const std::string& region) {
  std::lock_guard<std::mutex> guard(mutex_);
  die_after_.push_back(phase + "@" + region);
}

TimeUs LiveHistory::first_phase_us(const std::string& phase, const std::string& region) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = first_phase_.find(phase + "@" + region);
  return it == first_phase_.end() ? -1 : it->second;
}

std::uint64_t LiveHistory::append(Event event, std::int64_t commit_seq, std::int64_t rows) {
  std::lock_guard<std::mutex> guard(mutex_);
  event.time_us = elapsed_us();
  if (forward_fd_ >= 0) {
    write_all(forward_fd_, event_line(event, commit_seq, rows));
    if (event.kind == EventKind::phase &&
        std::find(die_after_.begin(), die_after_.end(), event.detail + "@" + event.region) != die_after_.end()) {
      ::raise(SIGKILL);
    }
    return 0;
  }
  rows_backfilled += rows;
  note_phase(event);
  note_fault(event);
  if (sealed_) return history_.append(std::move(event));
  pending_.push_back(Pending{std::move(event), commit_seq});
  return 0;
}

void LiveHistory::append_stamped(Event event, std::int64_t commit_seq) {
  std::lock_guard<std::mutex> guard(mutex_);
  note_phase(event);
  note_fault(event);
  if (sealed_) {
    history_.append(std::move(event));
    return;
  }
  pending_.push_back(Pending{std::move(event), commit_seq});
}

void LiveHistory::seal() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (sealed_) return;
  sealed_ = true;
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Pending& x, const Pending& y) { return x.event.time_us < y.event.time_us; });
  // Within one database, applied writes take the slots they have but in commit order.
  std::map<std::string, std::vector<std::size_t>> slots;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].commit_seq > 0) slots[pending_[i].event.node].push_back(i);
  }
  for (const auto& [node, positions] : slots) {
    std::vector<Pending> writes;
    for (std::size_t position : positions) writes.push_back(pending_[position]);
    std::stable_sort(writes.begin(), writes.end(), [](const Pending& x, const Pending& y) { return x.commit_seq < y.commit_seq; });
    for (std::size_t k = 0; k < positions.size(); ++k) {
      const TimeUs slot_time = pending_[positions[k]].event.time_us;
      pending_[positions[k]] = writes[k];
      pending_[positions[k]].event.time_us = slot_time;  // times stay non-decreasing
    }
  }
  for (Pending& entry : pending_) history_.append(std::move(entry.event));
  pending_.clear();
}

History LiveHistory::take() {
  seal();
  std::lock_guard<std::mutex> guard(mutex_);
  History taken = std::move(history_);
  history_ = History();
  return taken;
}

std::string event_line(const Event& event, std::int64_t commit_seq, std::int64_t rows) {
  const nlohmann::json line{{"t", event.time_us}, {"n", event.node}, {"k", static_cast<int>(event.kind)},
                            {"o", static_cast<int>(event.outcome)}, {"w", static_cast<int>(event.write)},
                            {"tok", event.token}, {"ac", event.actor}, {"r", event.region}, {"d", event.detail},
                            {"a", event.a}, {"b", event.b}, {"seq", commit_seq}, {"rows", rows}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool parse_event_line(const std::string& line, Event& event, std::int64_t& commit_seq, std::int64_t& rows) {
  const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("k") || !parsed.contains("seq")) return false;
  try {
    event = Event{.time_us = parsed.at("t").get<TimeUs>(), .node = parsed.at("n").get<std::string>(),
                  .kind = static_cast<EventKind>(parsed.at("k").get<int>()),
                  .outcome = static_cast<Outcome>(parsed.at("o").get<int>()),
                  .write = static_cast<WriteKind>(parsed.at("w").get<int>()), .token = parsed.at("tok").get<std::int64_t>(),
                  .actor = parsed.at("ac").get<std::string>(), .region = parsed.at("r").get<std::string>(),
                  .detail = parsed.at("d").get<std::string>(), .a = parsed.at("a").get<std::int64_t>(),
                  .b = parsed.at("b").get<std::int64_t>()};
    commit_seq = parsed.at("seq").get<std::int64_t>();
    rows = parsed.at("rows").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return event.kind <= EventKind::message && event.outcome <= Outcome::skipped && event.write <= WriteKind::checkpoint;
}

void install_pause_point() {
  struct sigaction action {};
  action.sa_handler = on_pause_request;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGUSR2, &action, nullptr);  // cancels a request the runner gave up waiting on
}

void pause_point() {
  if (g_pause_requested.exchange(false)) raise(SIGSTOP);  // the whole process stops, every thread
}

void LiveRecorder::record(Event event) {
  event.node = node_;
  if (event.actor.empty()) event.actor = node_;
  history_.append(std::move(event));
}

}  // namespace rehearse::live
