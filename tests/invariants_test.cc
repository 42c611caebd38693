// The invariant checkers of core/invariants.h, each on a small synthetic world that keeps the
// invariant and on a deliberately broken one that it must catch (so no checker passes vacuously).
#include "core/invariants.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace rehearse {
namespace {

// ---- Builders -------------------------------------------------------------------------------

Expr expression(const std::string& text) {
  ExprParseError error;
  std::optional<Expr> parsed = parse_expression(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error.message;
  return parsed.value_or(Expr{});
}

Value integer(std::int64_t value) { return Value::integer(value); }

// A table from its columns and rows; every row written by `writer` unless changed afterwards.
TableImage table(std::vector<std::string> columns, std::initializer_list<std::vector<Value>> rows,
                 Writer writer = Writer::initial) {
  TableImage image;
  image.columns = std::move(columns);
  for (const auto& row : rows) image.add_row(row, writer);
  return image;
}

TableSnapshot snapshot(const std::string& node, const std::string& moment, TimeUs at, std::uint64_t event,
                       TableImage image) {
  const std::string region = node.substr(3, node.find('/') == std::string::npos ? std::string::npos : node.find('/') - 3);
  return TableSnapshot{region, node, moment, at, event, true, std::move(image)};
}

// alter_column amount: amount__new = amount * 100 (cents), down: amount = amount__new / 100.
DerivedColumn cents(bool with_down = true) {
  return DerivedColumn{"amount__new", "amount", "amount", expression("amount * 100"),
                       with_down ? expression("amount__new / 100") : Expr{}};
}

Observations world(std::vector<std::string> regions = {"us-east-1"}) {
  Observations observations;
  observations.regions = std::move(regions);
  observations.derived = {cents()};
  observations.old_columns = {"amount"};
  observations.duration_us = 10 * kMin;
  return observations;
}

bool mentions(const Violation& violation, const std::string& text) {
  return violation.detail.find(text) != std::string::npos;
}

// ---- data-consistency -----------------------------------------------------------------------

TableImage backfilled() {
  TableImage image = table({"id", "amount", "amount__new"},
                           {{integer(1), integer(3), integer(300)}, {integer(2), integer(5), integer(500)},
                            {integer(3), integer(7), integer(700)}});
  image.set_writer(2, Writer::new_code);  // wrote amount__new = 700, down gave amount = 7
  return image;
}

TEST(DataConsistencyChecker, PassesBackfilledTableReplicaAndContractedEnd) {
  Observations observations = world();
  observations.snapshots.push_back(snapshot("db:us-east-1", "contract", 100, 10, backfilled()));
  observations.snapshots.push_back(snapshot("db:us-east-1/replica-1", "contract", 100, 10, backfilled()));
  // After contract `amount` holds the new values: up(amount) cannot be judged there.
  observations.snapshots.push_back(
      snapshot("db:us-east-1", "end", 200, 20, table({"id", "amount"}, {{integer(1), integer(300)}})));
  EXPECT_TRUE(check_data_consistency(observations).empty());
}

TEST(DataConsistencyChecker, CatchesBackfillThatSkippedRows) {
  Observations observations = world();
  TableImage image = table({"id", "amount", "amount__new"}, {{integer(1), integer(3), integer(300)},
                                                              {integer(2), integer(5), Value::null()},
                                                              {integer(3), integer(7), integer(70)}});
  observations.snapshots.push_back(snapshot("db:us-east-1", "contract", 100, 10, image));
  const auto violations = check_data_consistency(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "data-consistency");
  EXPECT_EQ(violations[0].node, "db:us-east-1");
  EXPECT_EQ(violations[0].time_us, 100);
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{10}));
  EXPECT_TRUE(mentions(violations[0], "row 2 column amount__new holds NULL but up(row) gives 500 (not backfilled)"))
      << violations[0].detail;
  EXPECT_TRUE(mentions(violations[0], "and 1 more row")) << violations[0].detail;
}

// add_column k (up: amount + 1) beside the alter of amount: up reads the old amount. Before the
// contract a wrong k is caught; after it `amount` holds the new values, so k cannot be judged
// there (it was judged with every row checked before; not a false violation either way).
TEST(DataConsistencyChecker, DerivedColumnReadingARewrittenColumnIsJudgedOnlyOnTheOldValues) {
  Observations observations = world();
  observations.derived.push_back(DerivedColumn{"k", "k", "", expression("amount + 1"), Expr{}});
  observations.snapshots.push_back(snapshot(
      "db:us-east-1", "end", 200, 20, table({"id", "amount", "k"}, {{integer(1), integer(300), integer(4)}})));
  EXPECT_TRUE(check_data_consistency(observations).empty());
  observations.snapshots.push_back(
      snapshot("db:us-east-1", "contract", 100, 10,
               table({"id", "amount", "amount__new", "k"}, {{integer(1), integer(3), integer(300), integer(5)}})));
  const auto violations = check_data_consistency(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 1 column k holds 5 but up(row) gives 4")) << violations[0].detail;
}

TEST(DataConsistencyChecker, CatchesNewCodeRowWhoseOldColumnIsNotDown) {
  Observations observations = world();
  TableImage image = backfilled();
  image.set(2, 1, integer(6));  // down(700) is 7
  observations.snapshots.push_back(snapshot("db:us-east-1", "validate", 100, 10, image));
  const auto violations = check_data_consistency(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 3 column amount holds 6 but down")) << violations[0].detail;
}

TEST(DataConsistencyChecker, CatchesReplicaThatDroppedAChange) {
  Observations observations = world();
  TableImage stale = backfilled();
  stale.set(1, 1, integer(4));  // the replica missed the update amount = 5 (and its trigger)
  stale.set(1, 2, integer(400));
  observations.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 10, backfilled()));
  observations.snapshots.push_back(snapshot("db:us-east-1/replica-1", "end", 100, 11, stale));
  const auto violations = check_data_consistency(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "data-consistency");
  EXPECT_EQ(violations[0].node, "db:us-east-1/replica-1");
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{11, 10}));
  EXPECT_TRUE(mentions(violations[0], "replica differs from its primary at row 2 column amount (4 instead of 5)"))
      << violations[0].detail;
}

// Rows are matched by id: in one pass when both sides hold the same ids in order (above), by
// label otherwise; both ways name the same rows.
TEST(DataConsistencyChecker, CatchesReplicaWithARowMissingAndOneTooMany) {
  Observations observations = world();
  const TableImage wrong = table({"id", "amount", "amount__new"},
                                 {{integer(1), integer(3), integer(300)}, {integer(3), integer(6), integer(700)},
                                  {integer(4), integer(9), integer(900)}});
  observations.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 10, backfilled()));
  observations.snapshots.push_back(snapshot("db:us-east-1/replica-1", "end", 100, 11, wrong));
  const auto violations = check_data_consistency(observations);
  ASSERT_EQ(violations.size(), 1u);
  // The first finding is named, the others counted: the row 3 difference and the extra row 4.
  EXPECT_TRUE(mentions(violations[0], "replica lacks row 2 of its primary, and 2 more differences")) << violations[0].detail;
  // The same rows in another order on the replica: matched by id, so no difference.
  Observations reordered = world();
  const TableImage shuffled = table({"id", "amount", "amount__new"},
                                    {{integer(2), integer(5), integer(500)}, {integer(1), integer(3), integer(300)},
                                     {integer(3), integer(7), integer(700)}});
  reordered.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 10, backfilled()));
  reordered.snapshots.push_back(snapshot("db:us-east-1/replica-1", "end", 100, 11, shuffled));
  EXPECT_TRUE(check_data_consistency(reordered).empty());
}

TEST(DataConsistencyChecker, IgnoresReplicaStillCatchingUp) {
  Observations observations = world();
  TableSnapshot replica = snapshot("db:us-east-1/replica-1", "validate", 100, 11, backfilled());
  replica.table.rows.pop_back();
  replica.drained = false;
  observations.snapshots.push_back(snapshot("db:us-east-1", "validate", 100, 10, backfilled()));
  observations.snapshots.push_back(replica);
  EXPECT_TRUE(check_data_consistency(observations).empty());
}

// ---- no-lost-writes -------------------------------------------------------------------------

AcknowledgedWrite acknowledged(std::int64_t row, std::uint64_t order, bool new_code, const std::string& column,
                               Value value) {
  return AcknowledgedWrite{"us-east-1", row, order, static_cast<TimeUs>(order) * kSec, new_code, {{column, value}}};
}

// A region rolled back after new code wrote amount__new = 900 to row 1: amount__new is gone.
Observations rolled_back_dual_write(bool with_down, std::int64_t amount_at_end) {
  Observations observations = world();
  observations.derived = {cents(with_down)};
  observations.final_states = {{"us-east-1", "rolled_back"}};
  observations.acknowledged.push_back(acknowledged(1, 1, false, "amount", integer(3)));
  observations.acknowledged.push_back(acknowledged(1, 2, true, "amount__new", integer(900)));
  observations.acknowledged.push_back(acknowledged(2, 3, false, "amount", integer(5)));
  observations.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 42,
                                            table({"id", "amount"}, {{integer(1), integer(amount_at_end)},
                                                                     {integer(2), integer(5)}})));
  return observations;
}

TEST(NoLostWritesChecker, KeepsDualWriteThatDownCarriedBack) {
  EXPECT_TRUE(check_no_lost_writes(rolled_back_dual_write(true, 9)).empty());
}

TEST(NoLostWritesChecker, CatchesDualWriteLostInRollbackWithoutDown) {
  const auto violations = check_no_lost_writes(rolled_back_dual_write(false, 3));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "no-lost-writes");
  EXPECT_EQ(violations[0].node, "db:us-east-1");
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{42}));
  EXPECT_TRUE(mentions(violations[0], "row 1: the new-code write of amount__new = 900")) << violations[0].detail;
  EXPECT_TRUE(mentions(violations[0], "no down expression carries it to amount (which holds 3)")) << violations[0].detail;
}

TEST(NoLostWritesChecker, FollowsOldCodeWritesThroughContract) {
  Observations observations = world();
  observations.final_states = {{"us-east-1", "contracted"}};
  observations.acknowledged.push_back(acknowledged(1, 1, false, "amount", integer(3)));
  observations.acknowledged.push_back(acknowledged(2, 2, false, "amount", integer(5)));
  observations.acknowledged.push_back(acknowledged(3, 3, false, "legacy_flag", Value::boolean(true)));  // dropped
  observations.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 42,
                                            table({"id", "amount"}, {{integer(1), integer(300)},
                                                                     {integer(2), integer(499)},
                                                                     {integer(3), integer(0)}})));
  const auto violations = check_no_lost_writes(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 2: the old-code write of amount = 5")) << violations[0].detail;
  EXPECT_TRUE(mentions(violations[0], "amount holds 499 where up(write) = 500 was expected")) << violations[0].detail;
}

TEST(NoLostWritesChecker, CatchesRowThatNoLongerExists) {
  Observations observations = rolled_back_dual_write(true, 9);
  observations.snapshots[0].table.rows.pop_back();
  const auto violations = check_no_lost_writes(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 2 (written at 3s) no longer exists")) << violations[0].detail;
}

// Final rows are found by id, whatever the ids: a gap (row 3 gone), an id held twice (the last
// of them is the row), ids starting past 1, unsorted.
TEST(NoLostWritesChecker, FindsFinalRowsByIdThroughGapsAndRepeats) {
  Observations observations = world();
  observations.final_states = {{"us-east-1", "pending"}};
  for (const std::int64_t row : {2, 3, 4, 7}) {
    observations.acknowledged.push_back(acknowledged(row, static_cast<std::uint64_t>(row), false, "amount", integer(row * 10)));
  }
  const auto final_with = [&observations](const std::vector<std::vector<Value>>& rows) {
    Observations with = observations;
    TableImage image = table({"id", "amount"}, {});
    for (const auto& row : rows) image.add_row(row, Writer::initial);
    with.snapshots.push_back(snapshot("db:us-east-1", "end", 100, 42, std::move(image)));
    return check_no_lost_writes(with);
  };
  // Row 2 twice (the first stale), no row 3, row 7 after a gap.
  auto violations = final_with({{integer(2), integer(1)}, {integer(2), integer(20)}, {integer(4), integer(40)}, {integer(7), integer(70)}});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 3 (written at 3s) no longer exists")) << violations[0].detail;
  EXPECT_FALSE(mentions(violations[0], "row 2")) << violations[0].detail;
  // The same with the stale copy last: that one is the row, so row 2's write is lost too.
  violations = final_with({{integer(2), integer(20)}, {integer(2), integer(1)}, {integer(3), integer(30)}, {integer(4), integer(40)},
                           {integer(7), integer(70)}});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "row 2: the old-code write of amount = 20 acknowledged at 2s is lost: amount holds 1")) << violations[0].detail;
  // Dense ids from 2, in another order: all found.
  EXPECT_TRUE(final_with({{integer(4), integer(40)}, {integer(2), integer(20)}, {integer(3), integer(30)}, {integer(5), integer(0)},
                          {integer(6), integer(0)}, {integer(7), integer(70)}})
                  .empty());
}

// ---- schema-convergence ---------------------------------------------------------------------

TEST(SchemaConvergenceChecker, PassesRegionsOnOneSchema) {
  Observations observations = world({"us-east-1", "eu-west-1"});
  observations.final_states = {{"us-east-1", "contracted"}, {"eu-west-1", "contracted"}};
  EXPECT_TRUE(check_schema_convergence(observations).empty());
  observations.final_states = {{"us-east-1", "rolled_back"}, {"eu-west-1", "pending"}};
  EXPECT_TRUE(check_schema_convergence(observations).empty());
}

TEST(SchemaConvergenceChecker, CatchesRegionsLeftOnDifferentSchemas) {
  Observations observations = world({"us-east-1", "eu-west-1"});
  observations.final_states = {{"us-east-1", "contracted"}, {"eu-west-1", "rolled_back"}};
  const auto violations = check_schema_convergence(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "schema-convergence");
  EXPECT_EQ(violations[0].node, "db:eu-west-1");
  EXPECT_TRUE(mentions(violations[0], "us-east-1 contracted, eu-west-1 rolled_back")) << violations[0].detail;
  EXPECT_TRUE(violations[0].events.empty()) << "no end snapshot recorded: no evidence to name";
  observations.snapshots.push_back(snapshot("db:us-east-1", "end", 200, 31, table({"id", "amount"}, {})));
  observations.snapshots.push_back(snapshot("db:eu-west-1", "end", 200, 31, table({"id", "amount"}, {})));
  EXPECT_EQ(check_schema_convergence(observations)[0].events, (std::vector<std::uint64_t>{31}));
  observations.time_ran_out = true;  // liveness judges a run whose time ran out
  EXPECT_TRUE(check_schema_convergence(observations).empty());
}

// ---- validate-before-contract ---------------------------------------------------------------

Event validation(const std::string& region, std::int64_t token, Outcome outcome, TimeUs at = 10) {
  return Event{.time_us = at, .node = "engine-1", .kind = EventKind::validate, .outcome = outcome, .token = token,
               .region = region};
}

Event contract_write(const std::string& region, std::int64_t token, TimeUs at = 20) {
  return Event{.time_us = at, .node = "db:" + region, .kind = EventKind::write, .outcome = Outcome::applied,
               .write = WriteKind::ddl, .token = token, .actor = "engine-1", .region = region,
               .detail = "contract: drop column legacy_flag"};
}

TEST(ValidateBeforeContractChecker, PassesContractAfterValidationWithTheSameToken) {
  History history;
  history.append(validation("us-east-1", 3, Outcome::ok));
  history.append(contract_write("us-east-1", 3));
  history.append(contract_write("us-east-1", 3));
  EXPECT_TRUE(check_validate_before_contract(history).empty());
}

TEST(ValidateBeforeContractChecker, CatchesContractWithoutValidation) {
  History history;
  history.append(validation("eu-west-1", 3, Outcome::ok));  // another region
  history.append(contract_write("us-east-1", 3));
  const auto violations = check_validate_before_contract(history);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "validate-before-contract");
  EXPECT_EQ(violations[0].node, "db:us-east-1");
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(violations[0].detail,
            "contract of us-east-1 (drop column legacy_flag, token 3) ran without a passed validation by token 3 "
            "(no validation ran)");
}

TEST(ValidateBeforeContractChecker, CatchesValidationByAnotherTokenOrSkipped) {
  History history;
  history.append(validation("us-east-1", 2, Outcome::ok));
  history.append(contract_write("us-east-1", 3));
  history.append(validation("eu-west-1", 3, Outcome::skipped, 30));
  history.append(contract_write("eu-west-1", 3, 40));
  const auto violations = check_validate_before_contract(history);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{1, 0}));
  EXPECT_TRUE(mentions(violations[0], "(validation passed under token 2)")) << violations[0].detail;
  EXPECT_EQ(violations[1].events, (std::vector<std::uint64_t>{3, 2}));
  EXPECT_TRUE(mentions(violations[1], "(validation was skipped)")) << violations[1].detail;
}

// ---- availability and replica-staleness -----------------------------------------------------

RequestIncident incident(TimeUs at, TimeUs waited, TimeUs staleness, const std::string& what) {
  return RequestIncident{"us-east-1", "app:us-east-1", at, waited, staleness, false, what};
}

TEST(AvailabilityChecker, PassesRequestsWithinTheSlo) {
  Observations observations = world();
  observations.slow_requests.push_back(incident(5 * kSec, 900 * kMs, 0, "write row 17"));
  observations.windows["us-east-1"] = {{0, 1000, 1}, {10 * kSec, 0, 0}};
  EXPECT_TRUE(check_availability(observations, SloSpec{}).empty());
}

TEST(AvailabilityChecker, CatchesStallAboveMaxStall) {
  Observations observations = world();
  observations.slow_requests.push_back(incident(7 * kSec, 2500 * kMs, 0, "write row 17"));
  observations.slow_requests.push_back(incident(5 * kSec, 1500 * kMs, 0, "write row 3"));
  const auto violations = check_availability(observations, SloSpec{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "availability");
  EXPECT_EQ(violations[0].time_us, 5 * kSec);
  EXPECT_EQ(violations[0].node, "app:us-east-1");
  EXPECT_TRUE(mentions(violations[0], "write row 3 in us-east-1 waited 1.5s (max_stall 1s)")) << violations[0].detail;
  EXPECT_TRUE(mentions(violations[0], "in all 2 requests over max_stall")) << violations[0].detail;
  SloSpec no_limit;
  no_limit.max_stall_us = 0;
  EXPECT_TRUE(check_availability(observations, no_limit).empty());
}

TEST(AvailabilityChecker, CatchesErrorWindowAboveTheRate) {
  Observations observations = world();
  observations.windows["us-east-1"] = {{0, 1000, 0}, {10 * kSec, 1000, 5}};
  const auto violations = check_availability(observations, SloSpec{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].time_us, 10 * kSec);
  EXPECT_TRUE(mentions(violations[0], "5 of 1000 requests in us-east-1 failed in the 10 s window from 10s"))
      << violations[0].detail;
  EXPECT_FALSE(mentions(violations[0], "the first at")) << "no failed request was recorded";
}

TEST(AvailabilityChecker, NamesTheFirstFailedRequestOfTheWindow) {
  Observations observations = world();
  observations.windows["us-east-1"] = {{0, 1000, 0}, {10 * kSec, 1000, 5}};
  RequestIncident outside = incident(9 * kSec, 10 * kMs, 0, "write row 2 failed: earlier window");
  RequestIncident later = incident(12 * kSec, 10 * kMs, 0, "write row 9 failed: later");
  RequestIncident first = incident(11 * kSec, 10 * kMs, 0, "read from db:us-east-1/replica-1 failed: relation does not exist");
  RequestIncident slow = incident(10 * kSec + 1, 10 * kMs, 0, "write row 4");  // slow, not failed
  for (RequestIncident* failed : {&outside, &later, &first}) failed->failed = true;
  observations.slow_requests = {outside, later, slow, first};
  const auto violations = check_availability(observations, SloSpec{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0], "; the first at 11s: read from db:us-east-1/replica-1 failed: relation does not exist"))
      << violations[0].detail;
}

TEST(ReplicaStalenessChecker, PassesAndCatchesStaleRead) {
  Observations observations = world();
  observations.stale_reads.push_back(incident(5 * kSec, 0, 9 * kSec, "read from db:us-east-1/replica-1"));
  EXPECT_TRUE(check_replica_staleness(observations, SloSpec{}).empty());
  observations.stale_reads.push_back(incident(6 * kSec, 0, 12 * kSec, "read from db:us-east-1/replica-1"));
  const auto violations = check_replica_staleness(observations, SloSpec{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "replica-staleness");
  EXPECT_EQ(violations[0].time_us, 6 * kSec);
  EXPECT_TRUE(mentions(violations[0], "served data 12s old (max_replica_lag 10s)")) << violations[0].detail;
}

// ---- liveness -------------------------------------------------------------------------------

Observations finished(const std::string& outcome, TimeUs last_fault_end) {
  Observations observations = world({"us-east-1", "eu-west-1"});
  observations.outcome = outcome;
  observations.last_fault_end_us = last_fault_end;
  observations.final_states = {{"us-east-1", "contracted"}, {"eu-west-1", "backfilling"}};
  return observations;
}

TEST(LivenessChecker, PassesFinishedMigrations) {
  EXPECT_TRUE(check_liveness(finished("completed", 2 * kMin)).empty());
  EXPECT_TRUE(check_liveness(finished("rolled_back", 2 * kMin)).empty());
}

TEST(LivenessChecker, CatchesHaltedOrIncompleteMigrationAfterFaultsEnded) {
  const auto halted = check_liveness(finished("halted", 2 * kMin + 10 * kSec));
  ASSERT_EQ(halted.size(), 1u);
  EXPECT_EQ(halted[0].invariant, "liveness");
  EXPECT_EQ(halted[0].node, "world");
  EXPECT_EQ(halted[0].detail,
            "faults ended at 2m10s but the migration halted (regions: us-east-1 contracted, eu-west-1 backfilling)");
  Observations incomplete = finished("incomplete", 2 * kMin);
  incomplete.time_ran_out = true;
  const auto violations = check_liveness(incomplete);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].time_us, 10 * kMin);
  EXPECT_TRUE(mentions(violations[0], "still incomplete at the end")) << violations[0].detail;
}

TEST(LivenessChecker, NoJudgementWhenFaultsNeverEnded) {
  EXPECT_TRUE(check_liveness(finished("incomplete", 10 * kMin)).empty());
}

// ---- check_all ------------------------------------------------------------------------------

TEST(InvariantsCheckAll, SortsByTimeThenInvariantOrder) {
  Observations observations = finished("halted", 2 * kMin);
  observations.slow_requests.push_back(incident(20, 5 * kSec, 0, "write row 1"));
  History history;
  history.append(contract_write("us-east-1", 3));  // at 20, no validation
  const auto violations = check_all(history, observations, SloSpec{});
  ASSERT_EQ(violations.size(), 4u);
  EXPECT_EQ(violations[0].invariant, "validate-before-contract");
  EXPECT_EQ(violations[1].invariant, "availability");
  EXPECT_EQ(violations[2].invariant, "schema-convergence");
  EXPECT_EQ(violations[3].invariant, "liveness");
}

}  // namespace
}  // namespace rehearse
