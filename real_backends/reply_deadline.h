// A client-side bound on how long a libpq call may wait for its reply. A partition (the fault
// proxy holding the bytes, a dead link) leaves a blocked libpq call waiting forever: the
// server never saw the statement, so its statement_timeout cannot end it, and TCP keepalives
// are answered by whatever holds the link. A `ReplyDeadline` armed around a call hands the
// connection's socket to one watchdog thread per process; when the deadline passes first, the
// watchdog shuts the socket down (both directions), libpq's read returns end-of-stream and the
// call throws pqxx::broken_connection, which the caller reads as a timeout through `expired()`.
// The simulator's clients give up the same way (sim/world.cc: statement_timeout + 5 s for the
// engine's statements, the application's 10 s client timeout).
//
// Thread-safe: any number of threads arm deadlines at once; each deadline belongs to the
// thread that armed it and must be destroyed by it, before the connection is closed.
#pragma once

#include <cstdint>

#include "core/model.h"

namespace rehearse::live {

class ReplyDeadline {
 public:
  // Arms a deadline `timeout_us` from now on a connection's socket (pqxx::connection::sock()).
  // REQUIRES: socket >= 0, the connection stays open while this object lives; timeout_us > 0.
  ReplyDeadline(int socket, TimeUs timeout_us);
  ~ReplyDeadline();
  ReplyDeadline(const ReplyDeadline&) = delete;
  ReplyDeadline& operator=(const ReplyDeadline&) = delete;

  // True once the watchdog shut the socket down: the call that was waiting failed because its
  // reply did not come in time (the connection is unusable afterwards and must be reopened).
  bool expired() const;

 private:
  std::uint64_t id_ = 0;
};

}  // namespace rehearse::live
