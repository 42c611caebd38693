// Members of the local etcd cluster and ZooKeeper ensemble: found by their client port, stopped,
// started again as they were; etcd's leadership moved by its v3 API, ZooKeeper's leader found by
// its `srvr` word.
#include "real_backends/lock_members.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rehearse::live {

namespace {
constexpr int kStopWaitPolls = 50;   // x 100 ms of SIGTERM, then SIGKILL
constexpr long kHttpTimeoutMs = 3000;  // transfer-leadership waits for the new leader's election
constexpr int kLeaderWaitPolls = 100;  // x 100 ms: a new leader must be known within 10 s

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string read_link(const std::string& path) {
  char buffer[4096];
  const ssize_t length = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
  return length > 0 ? std::string(buffer, static_cast<std::size_t>(length)) : "";
}

// Alive and not a zombie (a member whose parent is gone may wait for init to reap it).
bool alive(pid_t pid) {
  const std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// The inodes of the TCP sockets listening on PORT (any local address).
std::set<std::string> listening_inodes(int port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream file(table);
    std::string line;
    std::getline(file, line);  // the header
    while (std::getline(file, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      const std::size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return inodes;
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Result<nlohmann::json> etcd_post(const std::string& url, const std::string& path, const nlohmann::json& body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::unavailable("libcurl: no handle");
  std::string answer;
  const std::string text = body.dump();
  const std::string where = url + path;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, where.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kHttpTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) return Status::unavailable(fmt::format("etcd {}: {}", where, curl_easy_strerror(code)));
  nlohmann::json parsed = nlohmann::json::parse(answer, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::unavailable(fmt::format("etcd {}: not JSON", where));
  if (parsed.contains("error")) return Status::unavailable(fmt::format("etcd {}: {}", where, parsed.value("error", std::string("?"))));
  return parsed;
}

std::string text_field(const nlohmann::json& object, const char* name) {
  if (!object.contains(name)) return "";
  const nlohmann::json& value = object.at(name);
  return value.is_string() ? value.get<std::string>() : value.dump();
}
}  // namespace

bool split_host_port(const std::string& endpoint, std::string* host, int* port) {
  std::string rest = endpoint.rfind("http://", 0) == 0 ? endpoint.substr(7) : endpoint;
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int number = 0;
  const char* begin = rest.data() + colon + 1;
  const char* end = rest.data() + rest.size();
  auto [stop, error] = std::from_chars(begin, end, number);
  if (error != std::errc() || stop != end || number <= 0 || number > 65535) return false;
  *host = rest.substr(0, colon);
  *port = number;
  return true;
}

// Every step with an error code: a process may exit while its entries are read.
pid_t pid_listening_on(int port) {
  const std::set<std::string> inodes = listening_inodes(port);
  if (inodes.empty()) return 0;
  std::error_code error;
  for (std::filesystem::directory_iterator process("/proc", error), end; !error && process != end; process.increment(error)) {
    const std::string name = process->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code unreadable;  // another user's process, or gone: skipped
    for (std::filesystem::directory_iterator fd(process->path() / "fd", unreadable); !unreadable && fd != end;
         fd.increment(unreadable)) {
      const std::string target = read_link(fd->path().string());
      if (target.rfind("socket:[", 0) == 0 && inodes.count(target.substr(8, target.size() - 9)) > 0) {
        return static_cast<pid_t>(std::stol(name));
      }
    }
  }
  return 0;
}

Result<MemberProcess> stop_member(int port) {
  const pid_t pid = pid_listening_on(port);
  if (pid <= 0) return Status::unavailable(fmt::format("no process of this user listens on port {}", port));
  MemberProcess member;
  member.port = port;
  const std::string cmdline = read_text(fmt::format("/proc/{}/cmdline", pid));
  std::size_t start = 0;
  while (start < cmdline.size()) {
    const std::size_t end = cmdline.find('\0', start);
    member.argv.push_back(cmdline.substr(start, end - start));
    start = end == std::string::npos ? cmdline.size() : end + 1;
  }
  if (member.argv.empty()) return Status::unavailable(fmt::format("the process {} on port {} has no command line to start it again", pid, port));
  member.cwd = read_link(fmt::format("/proc/{}/cwd", pid));
  member.log = read_link(fmt::format("/proc/{}/fd/1", pid));
  if (member.log.empty() || member.log[0] != '/' || member.log == "/dev/null" || member.log.find(" (deleted)") != std::string::npos) member.log.clear();
  // live-up's pid file sits next to the member's data directory or config: DIR/etcd-N.pid for
  // --data-dir DIR/etcd-N, DIR/zookeeper-N.pid for DIR/zookeeper-N.cfg.
  for (const std::string& arg : member.argv) {
    if (arg.empty() || arg[0] != '/') continue;
    const std::size_t dot = arg.rfind('.');
    const std::size_t slash = arg.rfind('/');
    for (const std::string& candidate : {arg + ".pid", dot != std::string::npos && dot > slash ? arg.substr(0, dot) + ".pid" : std::string()}) {
      if (candidate.empty() || !member.pid_file.empty()) continue;
      std::string named = read_text(candidate);
      while (!named.empty() && (named.back() == '\n' || named.back() == ' ')) named.pop_back();
      if (named == std::to_string(pid)) member.pid_file = candidate;
    }
  }
  if (::kill(pid, SIGTERM) != 0) return Status::unavailable(fmt::format("cannot signal the process {} on port {}", pid, port));
  for (int poll = 0; poll < kStopWaitPolls && alive(pid); ++poll) sleep_ms(100);
  if (alive(pid)) {
    ::kill(pid, SIGKILL);
    for (int poll = 0; poll < 20 && alive(pid); ++poll) sleep_ms(100);
  }
  return member;
}

Status start_member(const MemberProcess& member, int wait_ms) {
  std::vector<char*> args;
  for (const std::string& arg : member.argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int log_fd = member.log.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                                        : ::open(member.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (log_fd < 0 || null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Status::unavailable(fmt::format("cannot start the member on port {} again: cannot open its log {}", member.port, member.log));
  }
  const char* cwd = member.cwd.empty() ? "/" : member.cwd.c_str();
  const pid_t child = ::fork();
  if (child == 0) {  // only async-signal-safe calls until exec
    ::setsid();
    const pid_t daemon = ::fork();
    if (daemon != 0) {
      (void)!::write(report[1], &daemon, sizeof daemon);
      ::_exit(0);
    }
    (void)!::chdir(cwd);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    for (int signal_number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) ::sigaction(signal_number, &defaults, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(report[1]);
  ::close(log_fd);
  ::close(null_fd);
  pid_t daemon = -1;
  if (child > 0) {
    if (::read(report[0], &daemon, sizeof daemon) != static_cast<ssize_t>(sizeof daemon)) daemon = -1;
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  ::close(report[0]);
  if (daemon <= 0) return Status::unavailable(fmt::format("cannot start the member on port {} again: fork failed", member.port));
  if (!member.pid_file.empty()) {
    std::ofstream file(member.pid_file, std::ios::trunc);
    file << daemon << "\n";
  }
  for (int waited = 0; waited <= wait_ms; waited += 100) {
    if (pid_listening_on(member.port) == daemon) return Status::ok();
    if (!alive(daemon)) break;
    sleep_ms(100);
  }
  return Status::unavailable(fmt::format("the member started again on port {} (pid {}) does not listen{}", member.port, daemon,
                                         member.log.empty() ? "" : " (see " + member.log + ")"));
}

Result<EtcdMemberStatus> etcd_member_status(const std::string& url) {
  Result<nlohmann::json> answer = etcd_post(url, "/v3/maintenance/status", nlohmann::json::object());
  if (!answer.is_ok()) return answer.status();
  EtcdMemberStatus status;
  if (answer.value().contains("header")) status.member_id = text_field(answer.value().at("header"), "member_id");
  status.leader_id = text_field(answer.value(), "leader");
  if (status.leader_id == "0") status.leader_id.clear();
  return status;
}

Result<std::string> etcd_move_leader(const std::vector<std::string>& urls) {
  std::vector<std::string> ids(urls.size());
  std::string leader_id;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    Result<EtcdMemberStatus> status = etcd_member_status(urls[i]);
    if (!status.is_ok()) continue;
    ids[i] = status.value().member_id;
    if (leader_id.empty()) leader_id = status.value().leader_id;
  }
  std::size_t leader = urls.size();
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (!ids[i].empty() && ids[i] == leader_id) leader = i;
  }
  if (leader_id.empty()) return Status::unavailable("the etcd cluster has no leader to fail over");
  if (leader == urls.size()) return Status::unavailable(fmt::format("the etcd leader (member {}) is none of lock.endpoints", leader_id));
  std::size_t target = urls.size();
  for (std::size_t step = 1; step < urls.size() && target == urls.size(); ++step) {
    const std::size_t i = (leader + step) % urls.size();
    if (!ids[i].empty()) target = i;
  }
  if (target == urls.size()) return Status::unavailable("no other etcd member answers: leadership has nowhere to move");
  Result<nlohmann::json> moved = etcd_post(urls[leader], "/v3/maintenance/transfer-leadership", {{"targetID", ids[target]}});
  if (!moved.is_ok()) return moved.status();
  for (int poll = 0; poll < kLeaderWaitPolls; ++poll) {
    Result<EtcdMemberStatus> status = etcd_member_status(urls[target]);
    if (status.is_ok() && status.value().leader_id == ids[target]) {
      return fmt::format("lock-{} (etcd member {}) stepped down; leadership moved to lock-{} (member {})", leader + 1, ids[leader],
                         target + 1, ids[target]);
    }
    sleep_ms(100);
  }
  return Status::unavailable(fmt::format("lock-{} was asked to hand leadership to lock-{}, which is not the leader 10 s later", leader + 1, target + 1));
}

Result<std::string> zookeeper_mode(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::unavailable("no socket");
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && ::write(fd, "srvr", 4) == 4) {
    char buffer[1024];
    for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  const std::size_t mode = answer.find("Mode: ");
  if (mode == std::string::npos) return Status::unavailable(fmt::format("ZooKeeper on port {} reports no mode (not serving)", port));
  const std::size_t end = answer.find('\n', mode);
  return answer.substr(mode + 6, end == std::string::npos ? std::string::npos : end - mode - 6);
}

}  // namespace rehearse::live
