#include "real_backends/host_load.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace rehearse::live {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The whole text of a /proc file; "" when it cannot be opened or read. POSIX calls, not
// std::ifstream: a process that exits while its file is read makes read() fail (ESRCH), and
// libstdc++'s filebuf throws on that whatever the stream's exception mask.
std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text = read_text(fd);
  ::close(fd);
  return text;
}

// A process's parent and processor ticks (utime + stime) from /proc/PID/stat; false when it is gone.
bool process_stat(int pid, int& parent, std::int64_t& ticks) {
  const std::string text = read_file(fmt::format("/proc/{}/stat", pid));
  const std::size_t name_end = text.rfind(')');
  if (name_end == std::string::npos) return false;
  std::istringstream fields(text.substr(name_end + 2));
  std::string state;
  std::int64_t skip = 0, utime = 0, stime = 0;
  fields >> state >> parent;
  for (int i = 0; i < 9; ++i) fields >> skip;  // pgrp .. cmajflt (fields 5-13)
  fields >> utime >> stime;
  if (!fields) return false;
  ticks = utime + stime;
  return true;
}

// The host's busy processor ticks from /proc/stat's first line (user, nice, system, irq,
// softirq and steal; idle and iowait are not busy; guest time is inside user already).
std::int64_t host_busy_ticks() {
  std::istringstream line(read_file("/proc/stat"));
  std::string cpu;
  std::int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  line >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return user + nice + system + irq + softirq + steal;
}

TimeUs ticks_us(std::int64_t ticks) { return ticks * 1'000'000 / std::max<long>(1, ::sysconf(_SC_CLK_TCK)); }

}  // namespace

std::string read_text(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return "";  // the process is gone: nothing to read
    if (got == 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

std::vector<int> local_postmasters(const std::vector<RegionEndpoints>& databases) {
  std::vector<int> found;
  try {
    for (const RegionEndpoints& region : databases) {
      std::vector<std::string> servers = region.replicas;
      if (!region.primary.empty()) servers.insert(servers.begin(), region.primary);
      for (const std::string& dsn : servers) {
        pqxx::connection connection(dsn + " connect_timeout=3");
        const int backend = pqxx::nontransaction(connection).exec("SELECT pg_backend_pid()")[0][0].as<int>();
        int parent = 0;
        std::int64_t ticks = 0;
        if (!process_stat(backend, parent, ticks) || parent <= 1) return {};  // not a process of this machine's
        found.push_back(parent);
      }
    }
  } catch (const std::exception&) {
    return {};
  }
  return found;
}

bool client_backend_title(const std::string& title) {
  std::string text = title;
  for (char& c : text) c = c == '\0' ? ' ' : c;  // argv's padding
  std::istringstream words(text);
  std::string program, first, second, third;
  words >> program >> first >> second >> third;
  if (program != "postgres:") return false;
  if (first == "parallel" && second == "worker") return true;
  if (first == "walsender") return false;
  return third == "[local]" || third.find('(') != std::string::npos;
}

HostLoadMeter::HostLoadMeter(std::vector<int> postmasters)
    : postmasters_(postmasters.begin(), postmasters.end()), thread_([this] { run(); }) {}

HostLoadMeter::~HostLoadMeter() { stop(); }

HostLoad HostLoadMeter::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  HostLoad load;
  load.window_us = (last_ns_ - first_ns_) / 1000;
  load.busy_us = ticks_us(busy_ticks_);
  load.statements_us = ticks_us(statement_ticks_);
  return load;
}

void HostLoadMeter::run() {
  sample();
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::microseconds(kHostLoadSampleUs));
    sample();
  }
}

void HostLoadMeter::sample() {
  const bool first = busy_ticks_start_ < 0;
  const std::int64_t busy = host_busy_ticks();
  if (first) busy_ticks_start_ = busy;
  busy_ticks_ = busy - busy_ticks_start_;
  std::map<int, std::int64_t> seen;
  // error_code overloads throughout: a directory iterator never throws here.
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    int parent = 0;
    std::int64_t ticks = 0;
    if (!process_stat(pid, parent, ticks) || postmasters_.count(parent) == 0) continue;
    // A client backend stays one; any other child is looked at again: a backend just forked
    // still shows the postmaster's command line until it sets its title.
    if (client_.count(pid) == 0) {
      if (!client_backend_title(read_file(fmt::format("/proc/{}/cmdline", pid)))) continue;
      client_.insert(pid);
    }
    // A backend seen for the first time after the first sample started within the window:
    // all its ticks are the window's.
    const auto before = ticks_.find(pid);
    if (!first) statement_ticks_ += ticks - (before == ticks_.end() ? 0 : before->second);
    seen[pid] = ticks;
  }
  ticks_ = std::move(seen);
  const std::int64_t now = now_ns();
  if (first) first_ns_ = now;
  last_ns_ = now;
}

}  // namespace rehearse::live
