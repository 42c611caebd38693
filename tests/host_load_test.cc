// The host load meter of conform's live runs (real_backends/host_load.h): a child of a
// "postmaster" titled as a client backend is the statements' processor time; the host's busy
// time holds it; auxiliary processes' titles are not statements.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "real_backends/host_load.h"

namespace rehearse::live {
namespace {

TEST(HostLoadTest, ClientBackendsAreTheStatementsNotTheAuxiliaryProcesses) {
  EXPECT_TRUE(client_backend_title("postgres: postgres app 127.0.0.1(40312) idle"));
  EXPECT_TRUE(client_backend_title(std::string("postgres: app db [local] UPDATE\0\0\0", 33)));
  EXPECT_TRUE(client_backend_title("postgres: parallel worker for PID 4242"));
  for (const char* title : {"postgres: checkpointer", "postgres: background writer", "postgres: walwriter",
                            "postgres: autovacuum launcher", "postgres: logical replication launcher",
                            "postgres: walsender postgres 127.0.0.1(40330) streaming 0/1E79B870",
                            "postgres: startup recovering 00000001000000000000001E", "postgres: walreceiver streaming 0/1E79B870",
                            "postgres: autovacuum worker app", "/usr/lib/postgresql/15/bin/postgres -D /tmp/x -p 5432"}) {
    EXPECT_FALSE(client_backend_title(title)) << title;
  }
}

char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t end = text.rfind(')');
  return end == std::string::npos || end + 2 >= text.size() ? '?' : text[end + 2];
}

TEST(HostLoadTest, ABackendsProcessorTimeIsTheStatementsAndTheHostsBusyTimeHoldsIt) {
  HostLoadMeter meter({static_cast<int>(getpid())});  // this process stands for the postmaster
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the first sample is taken
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a "backend": busy for a while, then idle (the same process: exec) until killed
    execl("/bin/sh", "postgres: app db 127.0.0.1(1) UPDATE", "-c",
          "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; exec sleep 30", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Its spin is over once it sleeps (at most 30 s on a slow host).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  while (process_state(child) != 'S' && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::microseconds(2 * kHostLoadSampleUs));  // a sample after it
  const HostLoad load = meter.stop();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_GE(load.statements_us, 100 * kMs);  // the spin: a few hundred ms of one processor
  EXPECT_GE(load.busy_us, load.statements_us);
  EXPECT_GT(load.window_us, load.statements_us / 2);
  EXPECT_LE(load.background_cores(), static_cast<double>(std::thread::hardware_concurrency()) + 0.5);
}

// A process that exits while the meter reads its /proc file (CI, 2026-12-05: std::ifstream's
// filebuf threw on read()'s ESRCH in the meter's thread, and conform aborted).
TEST(HostLoadTest, AFileOfAProcessThatExitedReadsAsNothing) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  const int fd = open(("/proc/" + std::to_string(child) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::string text = "unread";
  EXPECT_NO_THROW(text = read_text(fd));
  EXPECT_EQ(text, "");
  close(fd);
}

TEST(HostLoadTest, BackgroundIsTheBusyTimeBesidesTheStatementsInCores) {
  EXPECT_DOUBLE_EQ((HostLoad{1'000'000, 900'000, 400'000}.background_cores()), 0.5);
  EXPECT_DOUBLE_EQ((HostLoad{1'000'000, 300'000, 400'000}.background_cores()), 0.0);  // sampling slack
  EXPECT_DOUBLE_EQ((HostLoad{0, 0, 0}.background_cores()), 0.0);
}

}  // namespace
}  // namespace rehearse::live
