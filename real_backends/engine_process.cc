// Engine child processes: fork/exec, the spec on stdin, history lines from stdout, waitpid.
#include "real_backends/engine_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr int kReapPollMs = 10;
constexpr std::size_t kLineBytesMax = 1 << 20;  // a longer line is not an event: dropped

void close_quietly(int fd) {
  if (fd >= 0) ::close(fd);  // errors on close of a pipe end are ignored on purpose
}
}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd) {
  REHEARSE_ASSERT(!argv.empty());
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The child: only async-signal-safe calls until exec.
  const int null_fd = ::open("/dev/null", O_RDWR);
  ::dup2(stdin_fd >= 0 ? stdin_fd : null_fd, 0);
  ::dup2(stdout_fd >= 0 ? stdout_fd : null_fd, 1);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);  // sockets of the runner's sessions stay the runner's
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

EngineProcess::~EngineProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::kill(pid_, SIGCONT);
  }
  reap(0);
}

Status EngineProcess::launch(const std::string& binary, const std::string& spec) {
  REHEARSE_ASSERT(!running());
  reap(0);  // the previous incarnation's reader
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return Status::unavailable("pipe failed");
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    close_quietly(to_child[0]);
    close_quietly(to_child[1]);
    return Status::unavailable("pipe failed");
  }
  ++incarnation_;
  const pid_t pid = spawn_process({binary, "live-engine"}, to_child[0], from_child[1]);
  close_quietly(to_child[0]);
  close_quietly(from_child[1]);
  if (pid < 0) {
    exited_ = true;  // never ran: the supervisor must not wait for it
    exit_code_ = 127;
    close_quietly(to_child[1]);
    close_quietly(from_child[0]);
    return Status::unavailable(fmt::format("cannot start engine-{}: fork failed", instance_));
  }
  pid_ = pid;
  exited_ = false;
  stopped_ = false;
  exit_code_ = -1;
  ready_ = false;
  // The spec is small (well under the pipe's buffer): written at once, then EOF.
  const ssize_t wrote = ::write(to_child[1], spec.data(), spec.size());
  close_quietly(to_child[1]);
  reader_ = std::thread([this, fd = from_child[0]] { read_events(fd); });
  if (wrote != static_cast<ssize_t>(spec.size())) return Status::unavailable(fmt::format("engine-{}: could not pass its spec", instance_));
  return Status::ok();
}

void EngineProcess::read_events(int fd) {
  std::string buffer;
  char chunk[65536];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (std::size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
      Event event;
      std::int64_t seq = 0;
      std::int64_t rows = 0;
      if (!parse_event_line(buffer.substr(start, end - start), event, seq, rows)) continue;
      ready_ = true;
      history_.rows_backfilled += rows;
      history_.append_stamped(std::move(event), seq);
    }
    buffer.erase(0, start);
    if (buffer.size() > kLineBytesMax) buffer.clear();
  }
  close_quietly(fd);  // a torn last line of a killed process is dropped with the buffer
}

void EngineProcess::handle_status(int status) {
  if (WIFSTOPPED(status)) {
    stopped_ = true;
  } else if (WIFCONTINUED(status)) {
    stopped_ = false;
  } else if (WIFEXITED(status)) {
    exited_ = true;
    stopped_ = false;
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exited_ = true;
    stopped_ = false;
    exit_code_ = 128 + WTERMSIG(status);
  }
}

void EngineProcess::poll() {
  if (pid_ <= 0 || exited_) return;
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid_, &status, WNOHANG | WUNTRACED | WCONTINUED);
    if (got != pid_) return;
    handle_status(status);
    if (exited_) return;
  }
}

bool EngineProcess::send(int signal) {
  poll();
  if (!running()) return false;
  return ::kill(pid_, signal) == 0;
}

void EngineProcess::reap(int grace_ms) {
  if (pid_ > 0 && !exited_) {
    for (int waited = 0; waited < grace_ms && !exited_; waited += kReapPollMs) {
      poll();
      if (!exited_) std::this_thread::sleep_for(std::chrono::milliseconds(kReapPollMs));
    }
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      ::kill(pid_, SIGCONT);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      handle_status(status);
    }
  }
  if (reader_.joinable()) reader_.join();
}

}  // namespace rehearse::live
