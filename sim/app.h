// The application servers of one region: live traffic during the migration. Writes (inserts
// and updates, with hot rows) go to the region's primary (in a global topology the home
// region's), reads to the region's own replicas when it has any, else to that primary. The code version is old until the region's deploy point, then new; what each version
// writes is decided at the database (sim/database.h). Every request's latency, failure and
// staleness is measured into the run's Observations; acknowledged writes are remembered for
// the no-lost-writes checker. Requests are callbacks on the kernel, not fibers: traffic is the
// hot path of a run.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <memory>
#include <utility>
#include <vector>

#include "core/block_pool.h"
#include "core/gen.h"
#include "core/model.h"
#include "core/observations.h"
#include "sim/by_row.h"
#include "core/random.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

struct AppEndpoints {
  Node* app = nullptr;
  Node* primary = nullptr;
  std::vector<Node*> replicas;
  SimDatabase* database = nullptr;
  // Each replica's number in `database` (1-based), when not 1..replicas.size(): in a global
  // topology a region's replicas are some of the home database's.
  std::vector<int> replica_numbers;
};

// Row -> the apply order of a server's latest write to it that the primary applied.
using AppliedOrders = ByRow<std::uint64_t>;

class AppServer {
 public:
  struct Pending;  // one request in flight (public for sim/app.cc's helpers)
  // Traffic to one table at `traffic`'s rates; the scenario's first table (traffic.table is its
  // name) draws from the stream one-table runs always used, every other table from its own.
  // `connections`: per kind, 0 = unbounded (sim::WorldOptions::app_connections).
  AppServer(Kernel& kernel, Network& network, AppEndpoints endpoints, const Scenario& scenario, std::uint64_t seed,
            Observations& observations, TableWorkload traffic, int connections = 0);

  // Starts traffic; it stops when the kernel stops.
  void start();
  void deploy_new_code() { new_code_ = true; }
  // Closed-form replica reads, for a world no fault can touch (World decides: no faults, no
  // random faults, no BUGGIFY, no shared host, no connection pool). A read of a replica does
  // not lock the table and nothing can cut, delay, drop or crash its messages, so its whole
  // course is known when it is due: both flights (drawn then, from the network's stream), its
  // staleness on arrival (SimDatabase::replica_read_at) and its statement's time. It costs no
  // event: it is counted when it would have finished (the next time anything is counted or
  // read), as it would have been. Its outcome is the exact path's but for the order of the
  // network stream's draws (the reply's flight is drawn when the read is due), a change
  // committed during its flight, which it does not see, and which read pays a catalog reload
  // after a DDL (the first due after it, not the first to arrive).
  void compute_replica_reads_whole() { closed_form_reads_ = true; }
  // Write replies without an event, for the same world: the reply's flight is drawn and its
  // place in the order of events reserved when the primary answers (as the network would), and
  // it is counted, and the write acknowledged, where its event would have run (Kernel::has_run):
  // the next time anything is counted or read. Nothing can cut, delay, drop or hold it, or
  // crash the application, so the outcome is the event's, draw for draw and tie for tie.
  void compute_write_replies_whole() { closed_form_replies_ = true; }
  bool new_code() const { return new_code_; }
  // The table its traffic goes to: empty = the database's first table.
  const std::string& table() const { return table_; }
  // The last acknowledged write of every row, for the checker.
  // What finished since the last call: requests, failures and the longest wait. Resets.
  struct Second {
    std::int64_t requests = 0;
    std::int64_t failed = 0;
    TimeUs max_latency_us = 0;
  };
  Second take_second() {
    settle();
    return std::exchange(second_, Second{});
  }
  // Adds this region's request windows and acknowledged writes to `observations`. A write is
  // left out when a later write to its row was applied at the primary: by this server, or by
  // any server in `applied` (row -> latest apply order over every server writing to the same
  // primary, as in a global topology; nullptr = this server's own). Once, when the run is over:
  // the acknowledged writes move out.
  void export_to(Observations& observations, const AppliedOrders* applied = nullptr);
  // How many rows have an acknowledged write not yet exported (at most what export_to adds).
  std::size_t acknowledged_rows() {
    settle();
    return acknowledged_.size();
  }
  // Row -> the apply order of this server's latest write to it that the primary applied.
  const AppliedOrders& last_applied_orders() const { return last_applied_order_; }
  std::int64_t requests() {
    settle();
    return requests_;
  }
  std::int64_t errors() {
    settle();
    return errors_;
  }

 private:
  struct Attribution {
    Cause cause = Cause::migration;
    std::string why;  // RequestIncident::why
  };
  TimeUs next_gap(double per_second);
  void schedule_write();
  void schedule_read();
  // One kind's connection pool (connections_ > 0): requests in flight, and the due times of
  // those waiting for a connection, oldest first.
  struct Pool {
    int busy = 0;
    std::deque<TimeUs> waiting;
  };
  Pool& pool(bool write) { return write ? write_pool_ : read_pool_; }
  // A write (or read) due now: sent, or queued for a connection when the pool is full.
  void due(bool write);
  // A connection of the kind's pool is free again: the oldest waiting request still inside its
  // client timeout is sent on it (the ones past it fail unsent).
  void released(bool write);
  void send(bool write, TimeUs due_us) { write ? send_write(due_us) : send_read(due_us); }
  void send_write(TimeUs due_us);
  void send_read(TimeUs due_us);
  void finish(Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us);
  // Counts a finished request into the server's and the run's measures.
  void count(const Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us,
             TimeUs finished_us);
  // count's tally once the request's attribution is known; `what` spells the request out (for
  // an incident only).
  template <typename What>
  void tally(TimeUs sent_us, TimeUs finished_us, bool failed, bool write, const Attribution& attribution,
             TimeUs staleness_us, TimeUs staleness_without_faults_us, const What& what);
  // A closed-form read (compute_replica_reads_whole) of `target` (replica `number`) due now, or
  // false when it must take the exact path.
  bool read_whole(Node& target, int number, const std::string& table);
  struct WholeRead {
    TimeUs finished_us;
    TimeUs sent_us;
    const Node* target;
    TimeUs staleness_us;
    TimeUs staleness_without_faults_us;
  };
  // A write's reply computed whole (compute_write_replies_whole): it arrives at `arrives_us`,
  // where an event of sequence `sequence` would have run.
  struct WholeReply {
    TimeUs arrives_us;
    std::uint64_t sequence;
    std::shared_ptr<Pending> request;
    AppWriteResult result;
  };
  void reply_whole(const Node& primary, const Node& app, std::shared_ptr<Pending> request, AppWriteResult result);
  // A write's reply arrived at `at_us`: its row's latest acknowledged write, unless a later one
  // is (the result's written cells move out).
  void acknowledge(const Pending& request, AppWriteResult& result, TimeUs at_us);
  // Counts the closed-form reads finished by now and the whole replies that arrived by now (in
  // the order their events would have run), in the order they finished.
  void settle();
  // Ends a request at `at_us` (now, or a whole reply's arrival): counted, its connection freed.
  void close(Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us, TimeUs at_us);
  // Who made the request slow or failed, when it finished at `at_us`.
  Attribution attribute(const Pending& request, TimeUs at_us) const;
  std::int64_t pick_row(const std::string& table);
  const std::vector<ColumnSpec>& columns() const { return *columns_; }
  // The table a request of the running code version addresses (a member: it outlives the
  // request's start), or nullptr when it uses none.
  const std::string* target_table() const;

  Kernel& kernel_;
  Network& network_;
  AppEndpoints endpoints_;
  const Scenario& scenario_;
  TableWorkload traffic_;
  const std::vector<ColumnSpec>* columns_;  // of the table its traffic goes to (the scenario outlives the server)
  std::string table_;  // the table asked for: empty = the database's first table
  // What the new code calls it once the migration renamed it ("" = unchanged); dropped: the
  // migration drops it, so the new code does not use it.
  std::string renamed_to_;
  bool dropped_ = false;
  Rng rng_;
  std::vector<DataReference> references_;  // the foreign keys its writes draw values to satisfy
  // Per column of columns(): whether PostgreSQL keeps it unique (unique_columns), so a text
  // written to it gets this server's name and a count appended, as an application writes new
  // values there; and how many such texts it wrote.
  std::vector<bool> distinct_;
  std::int64_t distinct_written_ = 0;
  std::vector<GenForm> gen_forms_;  // per column of columns(): parse_gen of its gen rule
  ColumnValues logical_template_;        // a write's columns, each NULL: copied, then filled
  std::vector<std::size_t> logical_slot_;  // per column of columns(): its entry in the template
  Observations& observations_;
  TextArena* texts_;  // the run's (Observations::texts), or nullptr
  bool new_code_ = false;
  std::int64_t requests_ = 0;
  std::int64_t errors_ = 0;
  // A row's latest acknowledged write, until export_to makes it an AcknowledgedWrite (its region
  // is the primary's, its table the one the server's writes go to: both the server's own).
  struct Acknowledged {
    std::uint64_t order = 0;
    TimeUs time_us = 0;
    bool new_code = false;
    WrittenCells written;
  };
  ByRow<Acknowledged> acknowledged_;
  PooledMap<TimeUs, RequestWindow> windows_;
  RequestWindow* last_window_ = nullptr;  // the window the last request counted in (map nodes stay put)
  AppliedOrders last_applied_order_;
  Second second_;  // row -> order of its last applied write
  int connections_ = 0;
  // Client timeouts. Every request in flight waits here by its deadline and the kernel
  // sequence reserved when it was sent (Kernel::reserve_sequence), oldest first; kernel timers
  // exist only for some of them, and always one at or before the first: a request's timeout
  // runs exactly where an event of its own would have (Kernel::at_reserved), while the
  // requests that finish in time cost no event (about one timer per client timeout's length).
  struct Deadline {
    TimeUs at_us;
    std::uint64_t sequence;
    std::shared_ptr<Pending> request;
    bool before(TimeUs other_us, std::uint64_t other_sequence) const {
      return at_us != other_us ? at_us < other_us : sequence < other_sequence;
    }
  };
  void watch(std::shared_ptr<Pending> request, TimeUs deadline_us);
  void expire(TimeUs at_us, std::uint64_t sequence);
  void drop_finished();   // the finished requests at the front
  void time_the_first();  // a timer at the first deadline unless one comes at or before it
  std::deque<Deadline> deadlines_;
  // The kernel timers set, (time, sequence), latest first: one is set only before every other.
  std::vector<std::pair<TimeUs, std::uint64_t>> timers_;
  Pool write_pool_;
  Pool read_pool_;
  bool closed_form_reads_ = false;
  std::deque<WholeRead, PoolAllocator<WholeRead>> whole_reads_;  // not finished yet, by finish time (chunks recycled)
  bool closed_form_replies_ = false;
  // Not arrived yet, by (arrival, sequence): the order their events would have run in.
  std::deque<WholeReply, PoolAllocator<WholeReply>> whole_replies_;
  std::size_t incidents_kept_[2][kCauses] = {{0, 0}, {0, 0}};  // [slow, stale][cause]: incidents kept so far
};

}  // namespace rehearse::sim
