// Engine processes of a live run, seen from the runner: each engine instance (and each
// incarnation after a crash) is a child process running the hidden `rehearse live-engine`
// subcommand, so that live faults are real signals: SIGSTOP/SIGCONT for a pause, SIGKILL for a
// crash. The child reads its spec (JSON) on stdin and writes its history, one event per line
// (live_ports.h event_line), on stdout; a reader thread here merges the lines into the run's
// LiveHistory. Not thread-safe: one supervisor thread drives every EngineProcess.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "real_backends/live_ports.h"

namespace rehearse::live {

// Exit codes of `rehearse live-engine` (the engine's EngineExit, or a broken spec).
constexpr int kEngineExitCompleted = 0;
constexpr int kEngineExitRolledBack = 10;
constexpr int kEngineExitHalted = 11;
constexpr int kEngineExitGaveUp = 12;
constexpr int kEngineExitBadSpec = 20;

class EngineProcess {
 public:
  EngineProcess(int instance, LiveHistory& history) : instance_(instance), history_(history) {}
  ~EngineProcess();  // kills a child still running and joins the reader
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;

  // Starts `binary live-engine` with `spec` on its stdin. Returns unavailable when fork, exec or
  // the pipes fail. REQUIRES: no child running.
  Status launch(const std::string& binary, const std::string& spec);
  // Looks at the child without blocking (waitpid WNOHANG|WUNTRACED|WCONTINUED).
  void poll();
  // Sends `signal` to the running child; false when there is none.
  bool send(int signal);
  // Waits for the child to exit (SIGKILL after `grace_ms`) and for its last lines.
  void reap(int grace_ms);

  int instance() const { return instance_; }
  int incarnation() const { return incarnation_; }
  bool running() const { return pid_ > 0 && !exited_; }
  bool stopped() const { return stopped_; }
  bool exited() const { return exited_; }
  bool ready() const { return ready_.load(); }
  // The exit code, or 128 + signal when it was killed.
  int exit_code() const { return exit_code_; }

 private:
  void read_events(int fd);
  void handle_status(int status);

  int instance_;
  LiveHistory& history_;
  int incarnation_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
  bool stopped_ = false;
  int exit_code_ = -1;
  std::atomic<bool> ready_{false};
  std::thread reader_;
};

// fork + exec of `argv` (argv[0] is the program path) with stdin/stdout on the given fds (-1 =
// /dev/null) and every other descriptor closed; returns the pid or -1. Async-signal-safe in
// the child, so it is safe from a threaded process.
pid_t spawn_process(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd);

}  // namespace rehearse::live
