// Operational outcomes as values. Every port call returns a Status (or a Result<T>): cheap
// when ok, built by factories, tested by predicates (leveldb's Status). A timed-out call's
// effect is unknown: it may or may not have been applied.
#pragma once

#include <string>
#include <utility>

namespace rehearse {

class Status {
 public:
  enum class Code { ok, stale_token, timeout, unavailable, conflict, invalid, failed };

  Status() = default;
  static Status ok() { return Status(); }
  // A protected write carried a token lower than one the storage already accepted.
  static Status stale_token(std::string why) { return Status(Code::stale_token, std::move(why)); }
  // The call did not finish in time; whether it took effect is unknown.
  static Status timeout(std::string why) { return Status(Code::timeout, std::move(why)); }
  // The other side could not be reached or refused service (down, overloaded, partitioned).
  static Status unavailable(std::string why) { return Status(Code::unavailable, std::move(why)); }
  // The request lost a race: the lock is held by someone else, the lease is gone, ...
  static Status conflict(std::string why) { return Status(Code::conflict, std::move(why)); }
  // The request is wrong in itself (no such column, bad expression result, ...).
  static Status invalid(std::string why) { return Status(Code::invalid, std::move(why)); }
  static Status failed(std::string why) { return Status(Code::failed, std::move(why)); }

  bool is_ok() const { return code_ == Code::ok; }
  bool is_stale_token() const { return code_ == Code::stale_token; }
  bool is_timeout() const { return code_ == Code::timeout; }
  bool is_unavailable() const { return code_ == Code::unavailable; }
  bool is_conflict() const { return code_ == Code::conflict; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::ok;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit on purpose
  bool is_ok() const { return status_.is_ok(); }
  const Status& status() const { return status_; }
  const T& value() const { return value_; }
  T& value() { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace rehearse
