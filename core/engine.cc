// The migration engine's runbook: acquire the lock, then per region expand, dual write,
// backfill, validate, switch reads and contract, each step checkpointed under the fence.
#include "core/engine.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse {

namespace {
// Bounds (TigerBeetle style: every loop and retry has a named limit).
constexpr int kLeaseAttemptsMax = 64;          // times the engine re-acquires after losing the lease
constexpr int kRevalidateMax = 3;              // re-backfills of a mismatched range before failing
constexpr std::int64_t kValidateChunkBatches = 10;  // validation checksums this many batches at once
constexpr std::int64_t kUnbatchedValidateChunk = 100000;
constexpr int kForwardRetriesMax = 200;            // contract DDL retries once contract began
constexpr int kLagPollsMax = 600;                   // replication-lag polls before giving up waiting
constexpr TimeUs kLagPollUs = 500 * kMs;
constexpr TimeUs kBuggifyCheckpointDelayMaxUs = 2 * kSec;  // the longest BUGGIFY checkpoint delay
}  // namespace

const char* to_string(EngineExit exit) {
  switch (exit) {
    case EngineExit::completed: return "completed";
    case EngineExit::rolled_back: return "rolled_back";
    case EngineExit::halted: return "halted";
    case EngineExit::gave_up: return "gave_up";
  }
  return "?";
}

Engine::Engine(const LockSpec& lock, const EngineSpec& engine, MigrationPlan plan, std::vector<std::string> regions,
               EnginePorts ports)
    : lock_(lock),
      engine_(engine),
      plan_(std::move(plan)),
      key_(checkpoint_key(plan_)),
      regions_(std::move(regions)),
      ports_(ports),
      session_(lock, engine, LockSessionPorts{ports.clock, ports.random, ports.tasks, ports.lock, ports.recorder, ports.fault_points}) {
  REHEARSE_ASSERT(!regions_.empty());
  REHEARSE_ASSERT(!plan_.table.empty());
}

EngineExit Engine::run() {
  ports_.recorder.record(Event{.kind = EventKind::engine_start, .detail = plan_.name});
  for (int attempt = 0; attempt < kLeaseAttemptsMax; ++attempt) {
    Status acquired = session_.acquire();
    if (!acquired.is_ok()) {
      probe(Probe::acquire_gave_up);
      // Another holder may yet halt or vanish before the migration ends: while it is not
      // finished, back off and try again (bounded) rather than leave it to nobody.
      if (acquire_rounds_ >= engine_.acquire_retries || migration_finished()) return exit(EngineExit::gave_up);
      note("", fmt::format("acquire_timeout passed with the migration unfinished: trying again ({} of {})",
                           acquire_rounds_ + 1, engine_.acquire_retries));
      ports_.clock.sleep_for(backoff_delay(engine_.backoff, acquire_rounds_++, ports_.random));
      continue;
    }
    ++acquisitions_;
    acquired_token_ = session_.token();
    REHEARSE_ASSERT(acquired_token_ > 0);
    if (attempt > 0) probe(Probe::lock_lost_and_reacquired);
    const Step step = migrate_all();
    if (step == Step::lost) continue;  // another holder may have moved on; re-read on re-acquire
    if (step == Step::interrupted) {
      // A transient failure outlasted its retries (a fault that has not healed yet): not a
      // reason to halt for good. Step aside, back off, and resume from the checkpoint.
      note("", "a transient failure outlasted its retries: stepping aside to resume after a backoff");
      session_.release();
      ports_.clock.sleep_for(backoff_delay(engine_.backoff, interruptions_++, ports_.random));
      continue;
    }
    session_.release();
    return exit(step == Step::done ? (failed_region_rolled_back_ ? EngineExit::rolled_back : EngineExit::completed)
                                   : EngineExit::halted);
  }
  return exit(EngineExit::gave_up);
}

// The process ends: its lock client's session with the store goes too (a ZooKeeper waiter's
// queue znode would otherwise block every later engine for good).
EngineExit Engine::exit(EngineExit how) {
  ports_.lock.close();
  ports_.recorder.record(Event{.kind = EventKind::engine_exit,
                               .outcome = how == EngineExit::gave_up ? Outcome::failed : Outcome::ok,
                               .detail = to_string(how)});
  return how;
}

Engine::Step Engine::migrate_all() {
  failed_region_rolled_back_ = false;
  if (engine_.rollout == Rollout::all_at_once) return migrate_all_at_once();
  for (std::size_t i = 0; i < regions_.size(); ++i) {
    // Every region before this one is contracted (a rolled-back one stops the rollout).
    const Step step = migrate_region(regions_[i], i > 0 ? regions_[i - 1] : std::string());
    if (step != Step::done) return step;
    if (failed_region_rolled_back_) return Step::done;  // stop the rollout at the failed region
    if (i + 1 < regions_.size() && engine_.rollout == Rollout::region_by_region) {
      const Step gate = health_gate(regions_[i], regions_[i + 1]);
      if (gate != Step::done) return gate;
    }
  }
  return Step::done;
}

Engine::Step Engine::migrate_region(const std::string& name, const std::string& contracted_before) {
  Region region{name, ports_.database(name), Checkpoint{}, RegionState::pending};
  if (!read_checkpoint(region)) return unread_checkpoint();
  probe_resumed(region);
  if (region.state == RegionState::contracted) return Step::done;
  if (region.state == RegionState::rolled_back) {
    failed_region_rolled_back_ = true;
    return Step::done;
  }
  const Step step = settle(advance(region));
  if (step != Step::failed) return step;
  note(name, "the region failed");
  if (engine_.on_failure == OnFailure::halt || region.checkpoint.contract_started) return Step::failed;
  // Rolling this region back would leave the rollout on two schemas for good: it halts, and the
  // next holder resumes it forward from its checkpoint.
  if (!contracted_before.empty()) {
    note(name, fmt::format("not rolled back: {} is already contracted; halting for a resume", contracted_before));
    return Step::failed;
  }
  const Step rolled = rollback(region);
  if (rolled == Step::done) failed_region_rolled_back_ = true;
  return rolled;
}

// Runs `phase` if the checkpoint says it is still to do. Validation is also to do when another
// lock holder's token validated: this holder validates again before it switches or contracts.
Engine::Step Engine::run_phase(Region& region, Phase phase) {
  REHEARSE_ASSERT(region.state != RegionState::contracted);
  REHEARSE_ASSERT(region.state != RegionState::rolled_back);
  switch (phase) {
    case Phase::expand: return region.state < RegionState::expanded ? expand(region) : Step::done;
    case Phase::dual_write: return region.state < RegionState::dual_write ? dual_write(region) : Step::done;
    case Phase::backfill: return region.state < RegionState::validated ? backfill(region) : Step::done;
    case Phase::validate:
      return region.state < RegionState::validated || region.checkpoint.validated_token != session_.token()
                 ? validate(region)
                 : Step::done;
    case Phase::switch_reads: return region.state < RegionState::reads_switched ? switch_reads(region) : Step::done;
    case Phase::contract: return contract(region);
  }
  REHEARSE_ASSERT(false);
  return Step::failed;
}

// Runs the phases the checkpoint says are still to do, in runbook order.
Engine::Step Engine::advance(Region& region) {
  for (const Phase phase : kPhases) {
    const Step step = run_phase(region, phase);
    if (step != Step::done) return step;
  }
  return Step::done;
}

// all-at-once: every phase in every region before the next phase. A failure anywhere fails
// (rolls back or halts) every region not yet contracted.
Engine::Step Engine::migrate_all_at_once() {
  std::vector<Region> regions;
  for (const auto& name : regions_) {
    regions.push_back(Region{name, ports_.database(name), Checkpoint{}, RegionState::pending});
    if (!read_checkpoint(regions.back())) return unread_checkpoint();
    probe_resumed(regions.back());
  }
  for (const Phase phase : kPhases) {
    for (Region& region : regions) {
      if (region.state == RegionState::contracted || region.state == RegionState::rolled_back) continue;
      const Step step = settle(run_phase(region, phase));
      if (step == Step::lost || step == Step::interrupted) return step;
      if (step == Step::failed) return fail_regions(regions);
    }
  }
  return Step::done;
}

Engine::Step Engine::fail_regions(std::vector<Region>& regions) {
  if (engine_.on_failure == OnFailure::halt) return Step::failed;
  // A region whose contract started (or ended) cannot go back: rolling back the others would
  // leave two schemas for good, so the engine halts and the next holder resumes forward.
  for (const Region& region : regions) {
    if (region.checkpoint.contract_started || region.state == RegionState::contracted) return Step::failed;
  }
  for (Region& region : regions) {
    if (region.state == RegionState::contracted || region.state == RegionState::rolled_back) continue;
    const Step rolled = rollback(region);
    if (rolled != Step::done) return rolled;
  }
  failed_region_rolled_back_ = true;
  return Step::done;
}

Engine::Step Engine::expand(Region& region) {
  enter_phase(region, to_string(Phase::expand));
  int number = 0;
  for (const DdlStatement& statement : plan_.expand) {
    // A SQL file's statements, each marked as it starts: a fault can be timed to one
    // (`at: {phase: expand, statement: N}`), and the report shows how long each took.
    if (plan_.as_written) enter_phase(region, statement_phase(++number).c_str());
    // A SQL file's own SET lock_timeout / statement_timeout replace the engine's for the
    // statements after it, as they would in the session that runs the file.
    DdlLimits limits{engine_.lock_timeout_us, engine_.statement_timeout_us};
    if (statement.lock_timeout_us >= 0) limits.lock_timeout_us = statement.lock_timeout_us;
    if (statement.statement_timeout_us >= 0) limits.statement_timeout_us = statement.statement_timeout_us;
    const Step step = protected_call(region, "expand DDL", engine_.ddl_retries, [&] {
      return region.database.execute_ddl(statement, limits, session_.fence());
    });
    if (step != Step::done) return step;
  }
  return set_state(region, RegionState::expanded);
}

Engine::Step Engine::dual_write(Region& region) {
  enter_phase(region, to_string(Phase::dual_write));
  const Step step = protected_call(region, "dual_write flag", engine_.retries, [&] {
    return ports_.flags.set_flag(region.name, "dual_write", true, session_.fence());
  });
  return step == Step::done ? set_state(region, RegionState::dual_write) : step;
}

Engine::Step Engine::backfill(Region& region) {
  enter_phase(region, to_string(Phase::backfill));
  if (region.state != RegionState::backfilling) {
    const Step step = set_state(region, RegionState::backfilling);
    if (step != Step::done) return step;
  }
  if (plan_.fills.empty()) return Step::done;
  const Result<KeyRange> range = read_with_retries<KeyRange>(region, "key range", [&] { return region.database.key_range(plan_.table); });
  if (!range.is_ok()) return failure_of(range.status());
  std::int64_t next = std::max(region.checkpoint.next_id, range.value().min_id);
  if (next > range.value().min_id && next <= range.value().max_id) probe(Probe::backfill_resumed_from_cursor);
  while (next <= range.value().max_id) {
    const Step throttled = wait_for_replicas(region);
    if (throttled != Step::done) return throttled;
    const std::int64_t high =
        engine_.batch_size == 0 ? range.value().max_id : std::min(range.value().max_id, next + engine_.batch_size - 1);
    const Step step = fill_range(region, next, high, false);
    if (step != Step::done) return step;
    next = high + 1;
    if (engine_.batch_pause_us > 0 && next <= range.value().max_id) ports_.clock.sleep_for(engine_.batch_pause_us);
  }
  return Step::done;
}

// Backfills [low_id, high_id] and moves the checkpoint's cursor past it in the same transaction.
Engine::Step Engine::fill_range(Region& region, std::int64_t low_id, std::int64_t high_id, bool overwrite) {
  // A re-backfill after a failed validation reads the primary: the source it distrusts is out.
  const BackfillSource source = overwrite ? BackfillSource::primary : engine_.backfill_source;
  const BackfillBatch batch{plan_.table, plan_.fills, low_id, high_id, overwrite, source, {}};
  Checkpoint then = region.checkpoint;
  then.next_id = std::max(then.next_id, high_id + 1);
  then.token = session_.token();
  const Step step = protected_call(region, "backfill batch", engine_.retries, [&] {
    const Status status = region.database.backfill(batch, then, session_.fence()).status();
    // BUGGIFY: the batch committed, but its reply is "lost"; the retry must be harmless.
    if (status.is_ok() && ports_.fault_points.fires(FaultSite::backfill_spurious_timeout)) {
      return Status::timeout("buggify: backfill batch reported a spurious timeout");
    }
    return status;
  });
  if (step == Step::done) region.checkpoint = then;
  return step;
}

Engine::Step Engine::validate(Region& region) {
  enter_phase(region, to_string(Phase::validate));
  if (!engine_.validate || plan_.as_written) {
    ports_.recorder.record(Event{.kind = EventKind::validate, .outcome = Outcome::skipped, .token = session_.token(),
                                 .region = region.name,
                                 .detail = plan_.as_written ? "a SQL file run as written: nothing derived to validate"
                                                            : "validation is off: skipped"});
    return set_state(region, RegionState::validated);
  }
  const Result<KeyRange> range = read_with_retries<KeyRange>(region, "key range", [&] { return region.database.key_range(plan_.table); });
  if (!range.is_ok()) return failure_of(range.status());
  const std::int64_t chunk = engine_.batch_size == 0 ? kUnbatchedValidateChunk : engine_.batch_size * kValidateChunkBatches;
  std::int64_t mismatched_total = 0;
  for (std::int64_t low = range.value().min_id; low <= range.value().max_id; low += chunk) {
    const std::int64_t high = std::min(range.value().max_id, low + chunk - 1);
    for (int round = 0;; ++round) {
      const BackfillBatch window{plan_.table, plan_.fills, low, high, false, BackfillSource::primary, plan_.not_null};
      const Result<RangeChecksum> sums = read_with_retries<RangeChecksum>(
          region, "checksum", [&] { return region.database.checksum(window, BackfillSource::primary); });
      if (!sums.is_ok()) return failure_of(sums.status());
      const bool matches = sums.value().mismatched_rows == 0 && sums.value().expected == sums.value().actual;
      if (matches && sums.value().null_rows == 0) break;
      if (matches || round == kRevalidateMax) {  // NULLs in a NOT NULL column: backfill cannot help
        ports_.recorder.record(Event{.kind = EventKind::validate, .outcome = Outcome::failed, .region = region.name,
                                     .detail = fmt::format("ids {}..{}: {} rows mismatch, {} NULL in a NOT NULL column after {} re-backfills",
                                                           low, high, sums.value().mismatched_rows, sums.value().null_rows, round),
                                     .a = low, .b = high});
        return Step::failed;
      }
      mismatched_total += sums.value().mismatched_rows;
      probe(Probe::validation_mismatch_rebackfilled);
      const Step refill = fill_range(region, low, high, true);
      if (refill != Step::done) return refill;
    }
  }
  ports_.recorder.record(Event{.kind = EventKind::validate, .outcome = Outcome::ok, .token = session_.token(),
                               .region = region.name,
                               .detail = fmt::format("checksums match ({} rows re-backfilled)", mismatched_total)});
  region.checkpoint.validated_token = session_.token();
  return set_state(region, RegionState::validated);
}

Engine::Step Engine::switch_reads(Region& region) {
  enter_phase(region, to_string(Phase::switch_reads));
  const Step step = protected_call(region, "read_new flag", engine_.retries, [&] {
    return ports_.flags.set_flag(region.name, "read_new", true, session_.fence());
  });
  return step == Step::done ? set_state(region, RegionState::reads_switched) : step;
}

Engine::Step Engine::contract(Region& region) {
  enter_phase(region, to_string(Phase::contract));
  if (!region.checkpoint.contract_started && !plan_.contract.empty()) {
    // Persisted before the first DROP: from here on the only way out is forward.
    Checkpoint started = region.checkpoint;
    started.contract_started = true;
    const Step step = protected_call(region, "checkpoint", engine_.retries,
                                     [&] { return write_checkpoint(region, started); });
    if (step != Step::done) return step;
    region.checkpoint = started;
  }
  const DdlLimits limits{engine_.lock_timeout_us, engine_.statement_timeout_us};
  // Once contract began there is no way back: keep retrying a busy table far longer.
  const int retries = std::max(engine_.ddl_retries, kForwardRetriesMax);
  for (const DdlStatement& statement : plan_.contract) {
    const Step step = protected_call(region, "contract DDL", retries, [&] {
      return region.database.execute_ddl(statement, limits, session_.fence());
    });
    if (step != Step::done) return step;
  }
  return set_state(region, RegionState::contracted);
}

// Undoes a region that failed before contract: flags off, the added columns dropped.
Engine::Step Engine::rollback(Region& region) {
  enter_phase(region, "rollback");
  for (const char* flag : {"read_new", "dual_write"}) {
    const Step step = protected_call(region, "rollback flag", engine_.retries, [&] {
      return ports_.flags.set_flag(region.name, flag, false, session_.fence());
    });
    if (step != Step::done) return step;
  }
  const DdlLimits limits{engine_.lock_timeout_us, engine_.statement_timeout_us};
  for (const DdlStatement& undo : plan_.rollback) {
    const Step step = protected_call(region, "rollback DDL", engine_.ddl_retries, [&] {
      return region.database.execute_ddl(undo, limits, session_.fence());
    });
    if (step != Step::done) return step;
  }
  const Step step = set_state(region, RegionState::rolled_back);
  if (step == Step::done) probe(Probe::rollback_executed);
  return step;
}

// The soak: the finished region's application over it (a monitor that cannot tell judges
// nothing). A soak in which more requests failed than max_error_rate allows is followed by
// another, until one is healthy or the gate's budget (as long as its lag wait) runs out.
Engine::Step Engine::soak_until_healthy(const std::string& region) {
  const HealthGate& gate = engine_.health_gate;
  Result<RequestCounts> before = ports_.monitor.requests(region);
  TimeUs waited = 0;
  for (;;) {
    ports_.clock.sleep_for(gate.soak_us);
    const Result<RequestCounts> after = ports_.monitor.requests(region);
    if (!before.is_ok() || !after.is_ok()) return Step::done;
    const std::int64_t requests = after.value().requests - before.value().requests;
    const std::int64_t failed = after.value().failed - before.value().failed;
    if (requests <= 0 || static_cast<double>(failed) <= gate.max_error_rate * static_cast<double>(requests)) return Step::done;
    if (!session_.holding()) return Step::lost;
    waited += std::max(gate.soak_us, kLagPollUs);
    note(region, fmt::format("health gate: {} of {} application requests failed during the soak ({:.2f}%, above "
                             "max_error_rate {:g}%){}",
                             failed, requests, 100.0 * static_cast<double>(failed) / static_cast<double>(requests),
                             100.0 * gate.max_error_rate, waited < kLagPollsMax * kLagPollUs ? ": soaking again" : ""));
    if (waited >= kLagPollsMax * kLagPollUs) return Step::failed;
    if (gate.soak_us <= 0) ports_.clock.sleep_for(kLagPollUs);  // no soak: poll as the lag wait does
    before = after;
  }
}

// Between regions: soak until the finished region's application is healthy, then wait
// (bounded) until the finished regions' replicas caught up.
Engine::Step Engine::health_gate(const std::string& previous_region, const std::string& next_region) {
  ports_.recorder.record(Event{.kind = EventKind::phase, .token = session_.token(), .region = next_region, .detail = "health_gate"});
  if (const Step healthy = soak_until_healthy(previous_region); healthy != Step::done) return healthy;
  RegionDatabase& database = ports_.database(previous_region);
  for (int poll = 0; poll < kLagPollsMax; ++poll) {
    if (!session_.holding()) return Step::lost;
    const Result<TimeUs> lag = database.replication_lag();
    if (lag.is_ok() && lag.value() <= engine_.health_gate.max_replication_lag_us) return Step::done;
    ports_.clock.sleep_for(kLagPollUs);
  }
  note(previous_region, "health gate: replication lag stayed above the limit");
  return Step::failed;
}

// Backfill throttling: while any replica lags more than max_replication_lag, wait (bounded).
Engine::Step Engine::wait_for_replicas(Region& region) {
  if (engine_.max_replication_lag_us <= 0) return Step::done;
  for (int poll = 0; poll < kLagPollsMax; ++poll) {
    if (!session_.holding()) return Step::lost;
    const Result<TimeUs> lag = region.database.replication_lag();
    if (!lag.is_ok() || lag.value() <= engine_.max_replication_lag_us) return Step::done;
    if (poll == 0) {
      probe(Probe::backfill_throttled_by_lag);
      note(region.name, fmt::format("backfill throttled: replication lag {} ms", lag.value() / kMs));
    }
    ports_.clock.sleep_for(kLagPollUs);
  }
  return Step::done;  // give the lag up as a reason to stop; the next batch goes on
}

// Writes checkpoint state `state` (under the fence) and, once written, records it.
Engine::Step Engine::set_state(Region& region, RegionState state) {
  assert_region_transition(region.state, state);
  REHEARSE_ASSERT(region.checkpoint.state == to_string(region.state));
  Checkpoint next = region.checkpoint;
  next.exists = true;
  next.key = key_;
  next.state = to_string(state);
  next.token = session_.token();
  const Step step = protected_call(region, "checkpoint", engine_.retries,
                                   [&] { return write_checkpoint(region, next); });
  if (step == Step::done) {
    region.checkpoint = next;
    region.state = state;
    ports_.recorder.record(Event{.kind = EventKind::region_state, .token = session_.token(), .region = region.name,
                                 .detail = to_string(state)});
  }
  return step;
}

// Runs one protected operation: the pre-write check, the call, and retries of transient
// failures (timeouts, unavailability) with backoff. A stale-token rejection loses the lease.
Engine::Step Engine::protected_call(Region& region, const char* what, int retries_max,
                                    const std::function<Status()>& call) {
  for (int attempt = 0;; ++attempt) {
    const Status allowed = session_.check_before_write();
    if (!allowed.is_ok()) {
      session_.mark_lost(allowed.message());
      return Step::lost;
    }
    // Within one lock session the fence never moves: every write carries the acquired token.
    REHEARSE_ASSERT(session_.fence().token == acquired_token_);
    const Status status = call();
    if (status.is_ok()) return Step::done;
    if (status.is_stale_token()) {
      session_.mark_lost(fmt::format("{} rejected: {}", what, status.message()));
      return Step::lost;
    }
    note(region.name, fmt::format("{} failed: {}", what, status.to_string()));
    if (!is_transient(status) || attempt >= retries_max) return failure_of(status);
    probe(Probe::transient_failure_retried);
    ports_.clock.sleep_for(backoff_delay(engine_.backoff, attempt, ports_.random));
  }
}

// Whether every region's checkpoint says contracted or rolled back (read without the lock: a
// read only decides whether to keep trying; an unreadable one counts as unfinished). A region
// holding another plan's checkpoint counts as finished: no retry of this engine can migrate it.
bool Engine::migration_finished() {
  for (const std::string& name : regions_) {
    const Result<Checkpoint> read = ports_.database(name).read_checkpoint(key_);
    if (!read.is_ok() && read.status().is_conflict()) continue;
    if (!read.is_ok() || !read.value().exists) return false;
    const std::optional<RegionState> state = parse_region_state(read.value().state);
    if (state != RegionState::contracted && state != RegionState::rolled_back) return false;
  }
  return true;
}

bool Engine::is_transient(const Status& status) { return status.is_timeout() || status.is_unavailable(); }

// A failure's step: the lease's loss when it was lost meanwhile; an interruption (back off and
// resume, not halt) when the failure was transient and outlasted its retries.
Engine::Step Engine::failure_of(const Status& status) const {
  if (!session_.holding()) return Step::lost;
  return is_transient(status) ? Step::interrupted : Step::failed;
}

// A step that failed after the lease was lost failed because of the loss: re-acquire.
Engine::Step Engine::settle(Step step) const {
  return step == Step::failed && !session_.holding() ? Step::lost : step;
}

bool Engine::read_checkpoint(Region& region) {
  for (int attempt = 0; attempt <= engine_.retries; ++attempt) {
    if (!session_.holding()) return false;
    Result<Checkpoint> read = region.database.read_checkpoint(key_);
    if (read.is_ok()) {
      region.checkpoint = read.value();
      region.checkpoint.key = key_;
      if (!region.checkpoint.exists) region.checkpoint.state = to_string(RegionState::pending);
      const std::optional<RegionState> state = parse_region_state(region.checkpoint.state);
      if (!state) {  // written by something else than this engine: not ours to resume or to touch
        note(region.name, fmt::format("the checkpoint's state \"{}\" is no region state (pending .. contracted, "
                                      "rolled_back): halting without touching the region",
                                      region.checkpoint.state));
        checkpoint_conflict_ = true;
        return false;
      }
      region.state = *state;
      return true;
    }
    if (read.status().is_conflict()) {  // another plan's checkpoint: not ours to resume or to touch
      note(region.name, read.status().message());
      checkpoint_conflict_ = true;
      return false;
    }
    ports_.clock.sleep_for(backoff_delay(engine_.backoff, attempt, ports_.random));
  }
  return false;
}

Engine::Step Engine::unread_checkpoint() const {
  if (checkpoint_conflict_) return Step::failed;
  return session_.holding() ? Step::interrupted : Step::lost;
}

// A checkpoint write, which BUGGIFY may hold back after the fence check (the gap a pause can
// also open): storage fencing must still reject it if another holder moved on meanwhile.
Status Engine::write_checkpoint(Region& region, const Checkpoint& checkpoint) {
  if (ports_.fault_points.fires(FaultSite::checkpoint_write_delayed)) {
    ports_.clock.sleep_for(ports_.fault_points.draw_us(FaultSite::checkpoint_write_delayed, 0, kBuggifyCheckpointDelayMaxUs));
  }
  return region.database.write_checkpoint(checkpoint, session_.fence());
}

// A process's first acquisition that finds a region mid-migration continues another
// process's work (a crashed engine's, or a rival's whose lease ended) from the checkpoint.
void Engine::probe_resumed(const Region& region) {
  if (acquisitions_ != 1 || !region.checkpoint.exists) return;
  const RegionState state = region.state;
  if (state != RegionState::pending && state != RegionState::contracted && state != RegionState::rolled_back) {
    probe(Probe::resumed_from_checkpoint);
  }
}

void Engine::enter_phase(const Region& region, const char* phase) {
  ports_.recorder.record(Event{.kind = EventKind::phase, .token = session_.token(), .region = region.name, .detail = phase});
}

void Engine::note(const std::string& region, const std::string& detail) {
  ports_.recorder.record(Event{.kind = EventKind::message, .region = region, .detail = detail});
}

}  // namespace rehearse
