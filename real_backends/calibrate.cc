// The measurements of `rehearse calibrate`. Every statement runs in the schema
// rehearse_calibration (created here, dropped at the end, also on error): a scratch table `t` of
// options.rows rows, a side table `ins` for INSERTs. Each value is the median of repeated timed
// statements (wall time at the client, loopback round trip included); a per-row cost is the
// statement's time minus statement_base_us, divided by the rows it touched.
#include "real_backends/calibrate.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "core/costs.h"
#include "real_backends/postgres.h"
#include "real_backends/table_shape.h"

namespace rehearse::live {
namespace {

// The interval between the application measures' statements: a session of an application's pool
// (8 per region at 50 requests/s) sits idle at least this long between requests.
constexpr double kAppGapUs = 20'000;
constexpr std::int64_t kBatchPauseUs = 10'000;  // measure_busy_host's pause between batches
constexpr std::int64_t kParallelWriteRows = 20'000;  // measure_parallel_writes' UPDATE
constexpr int kParallelWriteRounds = 8;

using Clock = std::chrono::steady_clock;

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

pqxx::result run(pqxx::connection& connection, const std::string& sql) { return pqxx::nontransaction(connection).exec(sql); }

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double index = p * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(index));
  const auto high = static_cast<std::size_t>(std::ceil(index));
  return values[low] + (values[high] - values[low]) * (index - static_cast<double>(low));
}

std::string machine_description() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::string load = "unknown";
  std::ifstream loadavg("/proc/loadavg");
  loadavg >> load;  // the 1-minute load average: other work on the machine skews the timings
  return fmt::format("{}, {}, {} cores, load average {} at the start", host, cpu, std::thread::hardware_concurrency(), load);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// A libpq message on one line, without its trailing newline.
std::string one_line(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (char& c : message) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return message;
}

std::unique_ptr<pqxx::connection> connect(const std::string& dsn, const char* role) {
  // A connection string libpq cannot parse is bad input (exit 2), not an unreachable server.
  char* parse_error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &parse_error)) {
    PQconninfoFree(options);
  } else {
    const std::string why = parse_error != nullptr ? one_line(parse_error) : "out of memory";
    if (parse_error != nullptr) PQfreemem(parse_error);
    throw CalibrationError(2, fmt::format("--{}: the connection string cannot be parsed: {}", role, why));
  }
  try {
    return std::make_unique<pqxx::connection>(dsn);
  } catch (const std::exception& error) {
    throw CalibrationError(3, fmt::format("cannot reach the {} ({}): {}", role, redact(dsn), one_line(error.what())));
  }
}

// `base`, or base_2, base_3, ... whichever is not among `taken` (the scratch table's own columns
// beside a user table's).
std::string unused_name(const std::string& base, const std::vector<std::string>& taken) {
  const auto free = [&](const std::string& name) { return std::find(taken.begin(), taken.end(), name) == taken.end(); };
  if (free(base)) return base;
  for (int n = 2;; ++n) {
    if (free(fmt::format("{}_{}", base, n))) return fmt::format("{}_{}", base, n);
  }
}

// A comment line of the profile: a line break in a table's or column's name stays inside it.
std::string comment_text(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

bool in_recovery(pqxx::connection& connection) { return run(connection, "SELECT pg_is_in_recovery()")[0][0].as<bool>(); }

class Calibration {
 public:
  Calibration(const CalibrateOptions& options, const std::function<void(const std::string&)>& progress)
      : options_(options), progress_(progress), start_(Clock::now()) {}

  CalibrationResult measure_all() {
    primary_ = connect(options_.primary, "primary");
    if (in_recovery(*primary_)) {
      throw CalibrationError(2, fmt::format("--primary {} is a replica (pg_is_in_recovery() is true): give the primary's "
                                            "DSN as --primary and the replica's as --replica",
                                            redact(options_.primary)));
    }
    for (const std::string& dsn : options_.replicas) {
      replicas_.push_back(connect(dsn, "replica"));
      if (!in_recovery(*replicas_.back())) {
        throw CalibrationError(2, fmt::format("--replica {} is not a replica (pg_is_in_recovery() is false)", redact(dsn)));
      }
    }
    result_.server_version = run(*primary_, "SHOW server_version")[0][0].c_str();
    result_.machine = machine_description();
    result_.date = utc_now();
    result_.rows = options_.rows;
    result_.budget_us = options_.budget_us;
    result_.replicas = static_cast<int>(replicas_.size());
    run(*primary_, "SET lock_timeout = '5s'");
    run(*primary_, "SET TimeZone = 'UTC'");  // timestamps drawn from a shape are UTC (core/table_shape.h)
    choose_columns();
    setup();
    measure_statements();
    measure_rows();
    measure_ddl();
    measure_sessions();
    measure_batch_overhead();
    measure_lag_read();
    measure_busy_host();
    measure_parallel_writes();
    measure_locks();
    measure_replication();
    result_.wall_s = micros_since(start_) / 1e6;
    return result_;
  }

  // Drops the schema on a fresh connection (the main one may be mid-statement or broken).
  void drop_schema() {
    if (!schema_created_) return;
    try {
      pqxx::connection connection(options_.primary);
      run(connection, "SET lock_timeout = '10s'");
      run(connection, fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", kCalibrationSchema));
      schema_created_ = false;
    } catch (const std::exception& error) {
      throw CalibrationError(3, fmt::format("could not drop schema {}: {}", kCalibrationSchema, error.what()));
    }
  }

 // A statement cancelled by the budget's statement_timeout is an exhausted budget, not a failure.
  std::optional<std::string> budget_spent_during() const {
    if (remaining_us() > 0) return std::nullopt;
    return fmt::format("budget of {} s exhausted during {} (raise --budget or lower --rows)", options_.budget_us / 1'000'000,
                       current_);
  }

 private:
  double remaining_us() const { return static_cast<double>(options_.budget_us) - micros_since(start_); }

  void step(const std::string& what) {
    const double left = remaining_us();
    if (left <= 0) {
      throw CalibrationError(3, fmt::format("budget of {} s exhausted before {} (raise --budget or lower --rows)",
                                            options_.budget_us / 1'000'000, what));
    }
    // No statement may outlive the budget (a margin is kept for dropping the schema).
    run(*primary_, fmt::format("SET statement_timeout = {}", std::max<std::int64_t>(1, std::llround(left / 1000))));
    current_ = what;
    progress_(fmt::format("{} ({:.0f} s of {} s)", what, micros_since(start_) / 1e6, options_.budget_us / 1'000'000));
  }

  // Times `statement` (called with the repetition index) up to `reps` times (at least `min_reps`,
  // and no more once its slice of the budget is spent); returns the samples in microseconds.
  // With `gap_us`, one statement every gap_us (the session idle between them), as an
  // application's requests arrive, not back to back.
  template <class Statement>
  std::vector<double> time(int reps, int min_reps, double slice_us, Statement&& statement, double gap_us = 0) {
    std::vector<double> samples;
    const Clock::time_point begin = Clock::now();
    for (int i = 0; i < reps; ++i) {
      if (i >= min_reps && micros_since(begin) > slice_us) break;
      if (gap_us > 0 && i > 0) std::this_thread::sleep_for(std::chrono::microseconds(std::llround(gap_us)));
      const Clock::time_point t = Clock::now();
      statement(i);
      samples.push_back(micros_since(t));
    }
    return samples;
  }

  double slice() const { return static_cast<double>(options_.budget_us) / 24; }

  void record(const std::string& key, const std::vector<double>& values, const std::string& how) {
    CalibrationMeasure measure{key, percentile(values, 0.5), percentile(values, 0.1), percentile(values, 0.9),
                               static_cast<int>(values.size()), how};
    for (double* v : {&measure.median, &measure.p10, &measure.p90}) *v = std::max(0.0, *v);
    result_.measures.push_back(measure);
  }

  // `value` (a percentile of `values`) as the key's number, the spread that of `values`.
  void record_value(const std::string& key, double value, const std::vector<double>& values, const std::string& how) {
    record(key, values, how);
    result_.measures.back().median = std::max(0.0, value);
  }

  // Per-row costs: (sample - base) / rows.
  std::vector<double> per_row(const std::vector<double>& samples, std::int64_t rows) const {
    std::vector<double> out;
    for (double sample : samples) out.push_back((sample - base_us_) / static_cast<double>(rows));
    return out;
  }

  std::string table() const { return fmt::format("{}.t", kCalibrationSchema); }

  // The scratch table's columns: the key, `a` (updated by the measures), `b` (hashed by the
  // scan), `n` and `f` (the backfill's source and the column it fills) and the filler, which is
  // either c and d or, with --table, the user table's columns drawn from its shape. With
  // --table the measures' own names avoid the user's column names, and a single bigint/integer
  // primary key of the user's is the scratch table's key.
  void choose_columns() {
    if (!options_.table) {
      filler_ = {{"c numeric(12,2)", "c", "g * 0.01"}, {"d timestamp", "d", "timestamp '2024-01-01' + g * interval '1 second'"}};
      return;
    }
    step(fmt::format("reading the shape of {}", to_sql(*options_.table)));
    Result<TableShape> shape = read_table_shape(*primary_, *options_.table);
    if (!shape.is_ok()) throw CalibrationError(2, "--table: " + shape.status().message());
    shape_ = std::move(shape.value());
    Result<TableMapping> mapping = map_table_shape(shape_);
    if (!mapping.is_ok()) throw CalibrationError(2, "--table: " + mapping.status().message());
    std::vector<std::string> taken;
    for (const ColumnShape& column : shape_.columns) taken.push_back(column.name);
    key_type_ = "bigint";
    key_ = primary_->quote_name(unused_name("id", taken));
    if (const std::string& key = mapping.value().key; !key.empty()) {
      key_ = primary_->quote_name(key);
      for (const ColumnShape& column : shape_.columns) key_type_ = column.name == key ? column.type : key_type_;
    }
    a_ = primary_->quote_name(unused_name("a", taken));
    b_ = primary_->quote_name(unused_name("b", taken));
    n_ = primary_->quote_name(unused_name("n", taken));
    f_ = primary_->quote_name(unused_name("f", taken));
    e_ = primary_->quote_name(unused_name("e", taken));
    x_ = primary_->quote_name(unused_name("x", taken));
    r_ = primary_->quote_name(unused_name("r", taken));
    for (const MappedColumn& column : mapping.value().columns) {
      const std::string name = primary_->quote_name(column.column.name);
      filler_.push_back({fmt::format("{} {}{}", name, column.shape->type, column.shape->not_null ? " NOT NULL" : ""), name,
                         shaped_value_sql(*primary_, column)});
    }
    result_.table = CalibrationTable{to_sql(shape_.name), std::nullopt, shape_.pages, static_cast<int>(shape_.columns.size()),
                                     describe_approximations(shape_, mapping.value())};
    if (shape_.rows_estimate) result_.table->rows_estimate = std::llround(*shape_.rows_estimate);
  }

  // The measures' UPDATE: a = a + 1 on the rows `where` selects.
  std::string bump(const std::string& where) const {
    return fmt::format("UPDATE {0} SET {1} = {1} + 1 WHERE {2}", table(), a_, where);
  }

  // The backfill's UPDATE (real_backends/postgres.cc): a column left NULL set from an expression
  // over another, on the rows `where` selects that are still NULL. Measured against `bump`, a
  // 2,000-row window costs 0.3-0.6 us a row more (the numeric expression, the wider row version).
  std::string fill(const std::string& where) const {
    return fmt::format("UPDATE {0} SET {1} = round({2} * 100) WHERE {3} AND {1} IS NULL", table(), f_, n_, where);
  }

  // INSERT ... SELECT of the rows g = first..last into `into` (the scratch table or `ins`).
  std::string insert_rows(const std::string& into, std::int64_t first, std::int64_t last) const {
    std::vector<std::string> names{key_, a_, b_, n_}, values{"g", "g % 1000", "'item-' || g", "g * 0.01"};
    for (const FillerColumn& column : filler_) {
      names.push_back(column.name);
      values.push_back(column.value);
    }
    return fmt::format("INSERT INTO {} ({}) SELECT {} FROM generate_series({}, {}) g", into, fmt::join(names, ", "),
                       fmt::join(values, ", "), first, last);
  }

  void setup() {
    step("creating schema rehearse_calibration");
    run(*primary_, fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", kCalibrationSchema));  // a crashed run's own leftovers
    run(*primary_, fmt::format("CREATE SCHEMA {}", kCalibrationSchema));
    schema_created_ = true;
    std::vector<std::string> definitions{fmt::format("{} {} PRIMARY KEY", key_, key_type_), a_ + " integer NOT NULL",
                                         b_ + " text NOT NULL", n_ + " numeric(12,2) NOT NULL", f_ + " bigint"};
    for (const FillerColumn& column : filler_) definitions.push_back(column.definition);
    run(*primary_, fmt::format("CREATE TABLE {} ({})", table(), fmt::join(definitions, ", ")));
    run(*primary_, fmt::format("CREATE TABLE {}.ins (LIKE {} INCLUDING ALL)", kCalibrationSchema, table()));
    step(fmt::format("filling {} rows", options_.rows));
    run(*primary_, "SELECT setseed(0.25)");  // the same rows on every run
    run(*primary_, insert_rows(table(), 1, options_.rows));
    run(*primary_, fmt::format("VACUUM ANALYZE {}", table()));
  }

  void measure_statements() {
    step("statement_base_us");
    const auto base = time(60, 5, slice(), [&](int) {
      run(*primary_, fmt::format("UPDATE {0} SET {1} = {1} WHERE {2} = 0", table(), a_, key_));
    });
    record("statement_base_us", base, "UPDATE touching no row, autocommit");
    base_us_ = percentile(base, 0.5);
    // An application's requests reach a session that sat idle since its last one: timed back to
    // back they were 4-5x faster than the live application's requests at 50/s.
    step("app_write_us");
    const std::vector<double> paced = time(100, 10, slice(), [&](int i) {
      run(*primary_, bump(fmt::format("{} = {}", key_, 1 + (i * 7919) % options_.rows)));
    }, kAppGapUs);
    record("app_write_us", paced, fmt::format("point UPDATE by primary key, autocommit, one every {} ms", kAppGapUs / 1000));
    app_write_us_ = result_.measures.back().median;
    // The same UPDATE back to back, its session never idle: what is left of app_write_us is the
    // wait for an idle session's backend and client to wake (on a shared host, latency, not work).
    step("app_idle_wake_us");
    const auto hot = time(200, 20, slice() / 2, [&](int i) {
      run(*primary_, bump(fmt::format("{} = {}", key_, 1 + (i * 104729) % options_.rows)));
    });
    std::vector<double> wake;
    for (double sample : paced) wake.push_back(sample - percentile(hot, 0.5));
    record_value("app_idle_wake_us", app_write_us_ - percentile(hot, 0.5), wake,
                 fmt::format("app_write_us minus the same point UPDATE back to back (its median {:.0f} us of {})",
                             percentile(hot, 0.5), hot.size()));
    step("app_read_us");
    record("app_read_us", time(100, 10, slice(), [&](int i) {
             run(*primary_, fmt::format("SELECT * FROM {} WHERE {} = {}", table(), key_, 1 + (i * 7919) % options_.rows));
           }, kAppGapUs),
           fmt::format("point SELECT by primary key, one every {} ms", kAppGapUs / 1000));
    step("lookup_us");
    record("lookup_us", time(100, 10, slice(), [&](int) {
             run(*primary_, fmt::format("SELECT min({0}), max({0}) FROM {1}", key_, table()));
           }),
           "SELECT min(id), max(id) (the engine's key range)");
  }

  std::vector<std::int64_t> batch_sizes() const {
    std::vector<std::int64_t> sizes;
    for (std::int64_t size : {100, 1000, 10000, 100000}) {
      if (size <= options_.rows) sizes.push_back(size);
    }
    return sizes;
  }

  // The scratch table filled afresh, vacuumed and analyzed: rows never updated since, as a
  // backfill meets them (and as live mode prepares its tables). A row updated again costs
  // differently (its page's free space, HOT chains, dead versions): two calibrations that each
  // updated the same rows several times measured 3.4 and 5.5 us a row minutes apart.
  void refill() {
    run(*primary_, fmt::format("TRUNCATE {}", table()));
    run(*primary_, "SELECT setseed(0.25)");
    run(*primary_, insert_rows(table(), 1, options_.rows));
    run(*primary_, fmt::format("VACUUM ANALYZE {}", table()));
  }

  // The next `batch` consecutive ids no window has updated since the table was last filled
  // (refilling it when they would meet updated rows), as a WHERE condition.
  std::string next_fresh_ids(std::int64_t batch) {
    if (next_fresh_ + batch - 1 > options_.rows) {
      refill();
      next_fresh_ = 1;
    }
    const std::string where = fmt::format("{} BETWEEN {} AND {}", key_, next_fresh_, next_fresh_ + batch - 1);
    next_fresh_ += batch;
    return where;
  }

  // One backfill UPDATE of `batch` fresh consecutive ids: its time in microseconds.
  double time_fresh_window(std::int64_t batch) {
    const std::string update = fill(next_fresh_ids(batch));
    const Clock::time_point t = Clock::now();
    run(*primary_, update);
    return micros_since(t);
  }

  // update_per_row_us by batch size, every size in every one of kRowPasses passes (rotating
  // which goes first), the median over all of a size's windows. Measured one size after the
  // other, a host that slowed down for a few seconds (a checkpoint, another process) moved one
  // size's median alone: one calibration of this machine gave 4.55 us a row at 1,000 rows
  // between 2.55 at 100 and 2.53 at 10,000, where the next two gave 2.65-2.93 at every size.
  // Interleaved, such a spell moves a few windows of every size and no size's median.
  static constexpr int kRowPasses = 4;
  void measure_rows() {
    const std::vector<std::int64_t> sizes = batch_sizes();
    std::vector<std::vector<double>> windows(sizes.size());
    auto reps_of = [](std::int64_t batch) { return batch >= 100000 ? 8 : batch >= 10000 ? 25 : batch >= 1000 ? 60 : 100; };
    refill();
    next_fresh_ = 1;
    const Clock::time_point begin = Clock::now();
    const double budget_us = slice() * static_cast<double>(sizes.size());
    for (int pass = 0; pass < kRowPasses; ++pass) {
      step(fmt::format("update_per_row_us, pass {} of {}", pass + 1, kRowPasses));
      for (std::size_t k = 0; k < sizes.size(); ++k) {
        const std::size_t at = (static_cast<std::size_t>(pass) + k) % sizes.size();
        const int reps = reps_of(sizes[at]);
        const int share = reps * (pass + 1) / kRowPasses - reps * pass / kRowPasses;
        for (int i = 0; i < share; ++i) {
          // The first pass always completes (at least two windows of every size); later ones
          // stop once the rows' share of the budget is spent.
          if (pass > 0 && micros_since(begin) > budget_us) break;
          windows[at].push_back(time_fresh_window(sizes[at]));
        }
      }
    }
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      record(fmt::format("update_per_row_us.{}", sizes[k]), per_row(windows[k], sizes[k]),
             fmt::format("UPDATE of {} consecutive ids never updated since the table was filled and vacuumed, setting a "
                         "NULL bigint column to round(numeric * 100) as a backfill does, autocommit, every size in each of {} "
                         "interleaved passes",
                         sizes[k], kRowPasses));
    }
    const std::int64_t batch = std::min<std::int64_t>(10000, options_.rows);
    step("insert_per_row_us");
    record("insert_per_row_us", per_row(time(20, 3, slice(), [&](int i) {
             run(*primary_, insert_rows(fmt::format("{}.ins", kCalibrationSchema), i * batch + 1, (i + 1) * batch));
           }), batch),
           fmt::format("INSERT ... SELECT of {} rows into an indexed table", batch));
    step("scan_per_row_us");
    record("scan_per_row_us", per_row(time(15, 2, slice(), [&](int) {
             run(*primary_, fmt::format("SELECT count(*), sum(hashtext({})) FROM {}", b_, table()));
           }), options_.rows),
           "sequential scan of the whole table with a hash of a text column");
    measure_trigger(batch);
  }

  // The dual-write trigger's cost per row, computing the new column (an application's write)
  // and standing aside (the engine's backfill: live mode's `SET LOCAL rehearse.backfill = 'on'`,
  // real_backends/postgres.cc, makes the trigger return at once). Rounds of three fresh windows
  // in rotating order -- no trigger, computing, standing aside -- each set within a
  // transaction of the same shape, and each round's two differences from its own plain
  // window: a host that slows down between rounds moves all three (measured apart, two
  // calibrations minutes apart gave the trigger 2.5 and 4.4 us a row). The plain window runs
  // on the table without the trigger (dropped, then created again), not with it disabled: a
  // disabled BEFORE ROW trigger still has UPDATE fetch and lock each old row for it, 0.3-0.5 us
  // a row of what the trigger costs (10,000-row windows, interleaved, PostgreSQL 15: none 2.9,
  // disabled 3.2-3.3, standing aside 3.8-3.9 us a row of the backend's processor time), which
  // a disabled baseline left out of both differences. Creating or dropping the trigger between
  // windows is a catalog change; its reload in the next UPDATE (~0.1 ms) is a hundredth of a
  // microsecond a row of a 10,000-row window.
  void measure_trigger(std::int64_t batch) {
    step("trigger_per_row_us and trigger_bypass_per_row_us");
    run(*primary_, fmt::format("ALTER TABLE {} ADD COLUMN {} bigint", table(), e_));
    run(*primary_, fmt::format("CREATE FUNCTION {}.dual_write() RETURNS trigger LANGUAGE plpgsql AS "
                               "$$ BEGIN IF current_setting('rehearse.backfill', true) = 'on' THEN RETURN NEW; END IF; "
                               "NEW.{} := NEW.{} * 2; RETURN NEW; END $$",
                               kCalibrationSchema, e_, a_));
    const std::string create_trigger = fmt::format(
        "CREATE TRIGGER dual_write BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}.dual_write()", table(),
        kCalibrationSchema);
    const std::string drop_trigger = fmt::format("DROP TRIGGER dual_write ON {}", table());
    run(*primary_, create_trigger);
    refill();
    next_fresh_ = 1;
    bool present = true;
    std::vector<double> computing;
    std::vector<double> standing_aside;
    const Clock::time_point begin = Clock::now();
    for (int round = 0; round < 20 && (round < 3 || micros_since(begin) < slice()); ++round) {
      double took[3] = {0, 0, 0};  // no trigger, computing, standing aside
      for (int k = 0; k < 3; ++k) {
        const int kind = (round + k) % 3;
        const std::string update = bump(next_fresh_ids(batch));  // a refill before the trigger is switched
        if (present != (kind != 0)) {
          present = kind != 0;
          run(*primary_, present ? create_trigger : drop_trigger);
        }
        const Clock::time_point t = Clock::now();
        run(*primary_, fmt::format("BEGIN; SET LOCAL rehearse.backfill = '{}'; {}; COMMIT", kind == 2 ? "on" : "off", update));
        took[kind] = micros_since(t);
      }
      computing.push_back((took[1] - took[0]) / static_cast<double>(batch));
      standing_aside.push_back((took[2] - took[0]) / static_cast<double>(batch));
    }
    if (present) run(*primary_, drop_trigger);
    record("trigger_per_row_us", computing,
           fmt::format("UPDATE of {} rows with a BEFORE ROW dual-write trigger computing a column minus the same without, "
                       "interleaved rounds",
                       batch));
    record("trigger_bypass_per_row_us", standing_aside,
           fmt::format("UPDATE of {} rows with the dual-write trigger standing aside (rehearse.backfill = on, as the "
                       "engine's backfill) minus the same without, interleaved rounds",
                       batch));
  }

  void measure_ddl() {
    step("ddl_us");
    record("ddl_us", time(20, 3, slice(), [&](int i) {
             run(*primary_, fmt::format("ALTER TABLE {} {} {}", table(), i % 2 == 0 ? "ADD COLUMN" : "DROP COLUMN",
                                 i % 2 == 0 ? x_ + " integer" : x_));
           }),
           "ALTER TABLE ADD/DROP COLUMN (catalog only)");
    step("index_build_per_row_us");
    record("index_build_per_row_us", per_row(time(6, 1, slice(), [&](int) {
             run(*primary_, fmt::format("CREATE INDEX CONCURRENTLY t_a ON {} ({})", table(), a_));
             run(*primary_, fmt::format("DROP INDEX {}.t_a", kCalibrationSchema));
           }), options_.rows),
           "CREATE INDEX CONCURRENTLY on an integer column (and its DROP)");
    step("table_rewrite_per_row_us");
    record("table_rewrite_per_row_us", per_row(time(8, 1, slice(), [&](int i) {
             run(*primary_, fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}", table(), a_, i % 2 == 0 ? "bigint" : "integer"));
           }), options_.rows),
           "ALTER COLUMN TYPE integer <-> bigint (rewrites the table and its index)");
  }

  // An application session's first statement after a DDL changed its table pays for its
  // relation cache entry rebuilt; its first write through the dual-write trigger, for loading
  // PL/pgSQL and compiling the function (4-5 ms here, in a session that never ran PL/pgSQL, as
  // an application's sessions and live traffic's have not). Per round, fresh sessions each time
  // a point UPDATE after ADD COLUMN and again after CREATE TRIGGER, each against the next.
  void measure_sessions() {
    step("catalog_reload_us, trigger_create_us, trigger_ddl_us and trigger_first_call_us");
    constexpr int kSessions = 4;
    int next = 0;
    const auto point = [&](pqxx::connection& session) {
      const Clock::time_point t = Clock::now();
      run(session, bump(fmt::format("{} = {}", key_, 1 + (static_cast<std::int64_t>(next++) * 7919) % options_.rows)));
      return micros_since(t);
    };
    std::vector<double> reload, first_call, create, ddl;
    const Clock::time_point begin = Clock::now();
    for (int round = 0; round < 6 && (round < 2 || micros_since(begin) < slice()); ++round) {
      std::vector<std::unique_ptr<pqxx::connection>> sessions;
      for (int i = 0; i < kSessions; ++i) {
        sessions.push_back(std::make_unique<pqxx::connection>(options_.primary));
        run(*sessions.back(), "SET statement_timeout = '10s'");
        point(*sessions.back());
        point(*sessions.back());
      }
      run(*primary_, fmt::format("ALTER TABLE {} ADD COLUMN {} integer", table(), r_));
      for (auto& session : sessions) {
        const double first = point(*session);
        reload.push_back(first - point(*session));
      }
      // The engine's own function (real_backends/postgres.cc dual_write_trigger_sql): the
      // backfill's guard, then the new column computed from the old. A one-assignment body
      // (NEW.r := NEW.a) compiles in 4.1 ms where the engine's takes 5.6-6.9 ms (2026-12-05).
      // Created as the engine's dual-write step creates it (trigger_create_us): one transaction
      // on a session of its own that has read the table but never run PL/pgSQL (the validator
      // loads the language and compiles the body: 7 ms of the ~9 here, by hand).
      pqxx::connection engine(options_.primary);
      run(engine, "SET statement_timeout = '10s'");
      run(engine, fmt::format("SELECT * FROM {} WHERE {} = 1", table(), key_));
      const Clock::time_point created = Clock::now();
      {
        pqxx::work tx(engine);
        tx.exec(fmt::format("CREATE OR REPLACE FUNCTION {}.reload() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n"
                            "IF current_setting('rehearse.backfill', true) = 'on' THEN RETURN NEW; END IF;\n"
                            "NEW.{} := CAST(round((NEW.{} * 100)) AS integer);\nRETURN NEW;\nEND\n$body$",
                            kCalibrationSchema, r_, n_));
        // From here to the commit the table's SHARE ROW EXCLUSIVE lock is held (trigger_ddl_us).
        const Clock::time_point trigger = Clock::now();
        tx.exec(fmt::format("CREATE OR REPLACE TRIGGER reload BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}.reload()",
                            table(), kCalibrationSchema));
        tx.commit();
        ddl.push_back(micros_since(trigger));
      }
      create.push_back(micros_since(created));
      for (auto& session : sessions) {
        const double first = point(*session);
        first_call.push_back(first - point(*session));
      }
      run(*primary_, fmt::format("DROP TRIGGER reload ON {}", table()));
      run(*primary_, fmt::format("DROP FUNCTION {}.reload()", kCalibrationSchema));
      run(*primary_, fmt::format("ALTER TABLE {} DROP COLUMN {}", table(), r_));
    }
    record("catalog_reload_us", reload, "a session's first point UPDATE after ADD COLUMN on its table, minus its second");
    record("trigger_create_us", create,
           "the engine's dual-write step: CREATE OR REPLACE FUNCTION (PL/pgSQL, shaped as the engine's) and CREATE OR REPLACE "
           "TRIGGER in one transaction, on a fresh session that has read the table and never run PL/pgSQL");
    record("trigger_ddl_us", ddl,
           "the part of trigger_create_us from its CREATE OR REPLACE TRIGGER (which takes the table's SHARE ROW EXCLUSIVE "
           "lock) to its COMMIT");
    record("trigger_first_call_us", first_call,
           "a fresh session's first point UPDATE through a new PL/pgSQL trigger shaped as the engine's dual-write trigger "
           "on its table, minus its second");
  }

  // The engine's work in a batch's transaction besides its UPDATE (batch_overhead_us): the
  // engine's own transaction (run_batch_transaction: BEGIN, the fence, the trigger stood aside,
  // the table's columns, the checkpoint, COMMIT) around a backfill UPDATE that touches no row,
  // on a session of its own whose search_path is the scratch schema (the fence and checkpoint
  // tables are made there, as the engine makes them in its own), one every kBatchGapUs as a
  // batch_pause spaces batches, minus statement_base_us (the UPDATE's own, charged already).
  // Timed in the live engine with 2,000-row batches the rest of the transaction took 0.7-1.2 ms.
  static constexpr double kBatchGapUs = 10'000;
  void measure_batch_overhead() {
    step("batch_overhead_us");
    const std::unique_ptr<pqxx::connection> session = connect(options_.primary, "primary");
    run(*session, "SET statement_timeout = '10s'");
    run(*session, fmt::format("SET search_path TO {}", kCalibrationSchema));
    bootstrap_schema(*session);
    const std::string migration = "rehearse-calibrate";
    Checkpoint saved;
    saved.key = CheckpointKey{migration, table(), "0000000000000000"};
    saved.state = "backfilling";
    saved.token = 1;
    const std::string none = fill(fmt::format("{} BETWEEN 1 AND 0", key_));
    const auto samples = time(100, 10, slice(), [&](int i) {
      saved.next_id = i;
      run_batch_transaction(*session, migration, Fence{1, true}, table(), saved,
                            [&](pqxx::work& tx, const std::vector<std::string>&) { return tx.exec(none).affected_rows(); });
    }, kBatchGapUs);
    std::vector<double> overhead;
    for (double sample : samples) overhead.push_back(sample - base_us_);
    record("batch_overhead_us", overhead,
           fmt::format("the engine's backfill transaction (fence, trigger flag, columns read, checkpoint, BEGIN/COMMIT) around an "
                       "UPDATE touching no row, one every {} ms, minus statement_base_us",
                       kBatchGapUs / 1000));
  }

  // The engine's replication-lag read: the live engine's own (PostgresRegionDatabase::
  // replication_lag), one every kBatchGapUs as the engine reads it before each batch, in rounds
  // of two in rotating order: a region of the primary alone (its flush position and
  // pg_stat_replication: lag_read_us) and one listing every --replica (each replica's replay
  // position besides, with the record of the primary's flushes sampled every 5 ms beside it as
  // in a live run: the difference per replica is lag_read_per_replica_us). It reads only server
  // functions and views. Timed in the live engine between conform's batches: 1-1.6 ms with one
  // replica, where lookup_us (0.08-0.13 ms) was charged until 2026-12-05.
  void measure_lag_read() {
    step("lag_read_us");
    MigrationPlan plan;
    plan.name = "rehearse-calibrate";
    plan.table = table();
    LiveHistory history;
    StopSignal never;
    constexpr TimeUs kReplyTimeoutUs = 10'000'000;
    PostgresRegionDatabase alone(RegionEndpoints{"calibration", options_.primary, {}}, "calibrate", plan, history, never,
                                 kReplyTimeoutUs);
    PostgresRegionDatabase listed(RegionEndpoints{"calibration", options_.primary, options_.replicas}, "calibrate", plan, history,
                                  never, kReplyTimeoutUs);
    std::optional<std::string> failed;
    const auto read = [&](PostgresRegionDatabase& database) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::llround(kBatchGapUs)));
      const Clock::time_point t = Clock::now();
      const Result<TimeUs> lag = database.replication_lag();
      if (!lag.is_ok() && !failed) failed = lag.status().to_string();
      return micros_since(t);
    };
    std::vector<double> primary_only;
    std::vector<double> per_replica;
    const Clock::time_point begin = Clock::now();
    for (int round = 0; round < 60 && (round < 10 || micros_since(begin) < slice()); ++round) {
      double took[2] = {0, 0};  // alone, listed
      for (int k = 0; k < 2; ++k) {
        const int which = (round + k) % 2;
        took[which] = read(which == 0 ? alone : listed);
      }
      primary_only.push_back(took[0]);
      if (!replicas_.empty()) per_replica.push_back((took[1] - took[0]) / static_cast<double>(replicas_.size()));
    }
    if (failed) throw CalibrationError(3, fmt::format("the engine's replication-lag read failed: {}", *failed));
    record("lag_read_us", primary_only,
           fmt::format("the engine's replication-lag read of a primary alone (its flush position, pg_stat_replication), one every "
                       "{} ms",
                       kBatchGapUs / 1000));
    if (replicas_.empty()) {
      record("lag_read_per_replica_us", {0}, "no --replica given: not measured");
      return;
    }
    record("lag_read_per_replica_us", per_replica,
           "the same read listing every replica (each one's replay position) minus the primary's alone, per replica, "
           "interleaved rounds");
  }

  // How much longer an application's point UPDATE takes while the migration's batches run on
  // the same host (busy_host_wait): paced point UPDATEs on the upper half of the table while a
  // second session runs UPDATE batches on the lower half, 10 ms apart as conform's batched
  // backfill (a) paces them, counting those started while a batch ran (no row in common, so no
  // lock is waited for: what remains is the wait for a processor, beside the batch's backend,
  // the WAL writer and sender and the replica's replay), minus app_write_us. Up to 1,000 writes
  // in four slices of the budget (about 400 beside a batch): with 300 in one slice (about 105
  // beside), two calibrations 3 h apart on one host gave a p99 of 2.8 and 1.3 ms and a max of
  // 6.1 and 1.6 ms, and conform's (a) a p99 ratio of 0.85 with one and 0.55 with the other.
  void measure_busy_host() {
    step("busy_host_wait_us");
    const std::int64_t half = std::max<std::int64_t>(options_.rows / 2, 1);
    const std::int64_t batch = std::min<std::int64_t>(2000, half);
    pqxx::connection batcher(options_.primary);
    run(batcher, fmt::format("SET statement_timeout = {}", std::max<std::int64_t>(1, std::llround(remaining_us() / 1000))));
    std::atomic<bool> stop{false};
    std::atomic<bool> in_batch{false};
    std::optional<std::string> failed;
    std::thread thread([&] {
      try {
        for (std::int64_t low = 0; !stop; low = (low + batch) % half) {
          in_batch = true;
          run(batcher, bump(fmt::format("{0} > {1} AND {0} <= {2}", key_, low, low + batch)));
          in_batch = false;
          std::this_thread::sleep_for(std::chrono::microseconds(kBatchPauseUs));
        }
      } catch (const std::exception& error) {
        failed = error.what();
      }
    });
    std::vector<double> samples;
    try {
      std::vector<bool> beside;
      const std::vector<double> all = time(1000, 60, 4 * slice(), [&](int i) {
        beside.push_back(in_batch);
        run(*primary_, bump(fmt::format("{} = {}", key_, half + 1 + (i * 7919) % std::max<std::int64_t>(options_.rows - half, 1))));
      }, kAppGapUs);
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (beside[i]) samples.push_back(all[i]);
      }
    } catch (...) {
      stop = true;
      thread.join();
      throw;
    }
    stop = true;
    thread.join();
    if (failed) throw CalibrationError(3, "busy host measurement failed: " + *failed);
    if (samples.empty()) throw CalibrationError(3, "busy host measurement: no point UPDATE started beside a batch");
    std::vector<double> extra;
    for (double sample : samples) extra.push_back(std::max(0.0, sample - app_write_us_));
    const std::string how = fmt::format("point UPDATE one every {} ms started during a {}-row UPDATE batch (one every {} ms "
                                        "after the last), minus app_write_us",
                                        kAppGapUs / 1000, batch, kBatchPauseUs / 1000);
    double floor = 0;  // percentiles never decrease
    for (const auto& [key, q] : {std::pair<const char*, double>{"busy_host_wait_p50_us", 0.5},
                                 {"busy_host_wait_p90_us", 0.9},
                                 {"busy_host_wait_p99_us", 0.99},
                                 {"busy_host_wait_max_us", 1.0}}) {
      floor = std::max(floor, percentile(extra, q));
      record_value(key, floor, extra, fmt::format("{} (its p{:g})", how, q * 100));
    }
  }

  // How many processors the database's writes get side by side (parallel_write_cores): rounds
  // of two UPDATEs of the same size on disjoint rows (the table's lower and upper half), timed
  // each alone and then started together on two sessions; a round's figure is the work done
  // alone (the two durations' sum) over the pair's wall time side by side: 2 when they run as
  // fast together as apart, 1 when they take turns. Bounded by the host's cores. On the 2-core
  // AMD EPYC VM two 50,000-row UPDATEs took 146-274 ms alone and 255-388 ms together (1.3).
  void measure_parallel_writes() {
    step("parallel_write_cores");
    const std::int64_t half = std::max<std::int64_t>(options_.rows / 2, 1);
    const std::int64_t rows = std::min<std::int64_t>(kParallelWriteRows, half);
    const std::string lower = bump(fmt::format("{0} > 0 AND {0} <= {1}", key_, rows));
    const std::string upper = bump(fmt::format("{0} > {1} AND {0} <= {2}", key_, half, half + rows));
    pqxx::connection second(options_.primary);
    run(second, fmt::format("SET statement_timeout = {}", std::max<std::int64_t>(1, std::llround(remaining_us() / 1000))));
    const double cores = std::max(1U, std::thread::hardware_concurrency());
    std::vector<double> rounds;
    const Clock::time_point begin = Clock::now();
    for (int round = 0; round < kParallelWriteRounds; ++round) {
      if (round >= 3 && micros_since(begin) > 2 * slice()) break;
      const auto timed = [&](pqxx::connection& connection, const std::string& statement) {
        const Clock::time_point t = Clock::now();
        run(connection, statement);
        return micros_since(t);
      };
      const double alone = timed(*primary_, lower) + timed(second, upper);
      std::atomic<bool> go{false};
      std::optional<std::string> failed;
      std::thread other([&] {
        while (!go) std::this_thread::yield();
        try {
          run(second, upper);
        } catch (const std::exception& error) {
          failed = error.what();
        }
      });
      const Clock::time_point t = Clock::now();
      go = true;
      try {
        run(*primary_, lower);
      } catch (...) {
        other.join();
        throw;
      }
      other.join();
      const double together = micros_since(t);
      if (failed) throw CalibrationError(3, "parallel write measurement failed: " + *failed);
      rounds.push_back(std::clamp(alone / together, 1.0, cores));
    }
    record("parallel_write_cores", rounds,
           fmt::format("two {}-row UPDATEs on disjoint rows, each alone and then side by side on two sessions: the alone "
                       "durations' sum over the pair's wall time, at most the host's {} cores",
                       rows, cores));
  }

  // A waiter's delay from the holder's COMMIT to its own UPDATE returning.
  void measure_locks() {
    step("row_lock_hold_us");
    pqxx::connection waiter(options_.primary);
    run(waiter, "SET statement_timeout = '10s'");
    const int waiter_pid = run(waiter, "SELECT pg_backend_pid()")[0][0].as<int>();
    pqxx::connection observer(options_.primary);  // looks at pg_stat_activity only
    std::vector<double> samples;
    const Clock::time_point begin = Clock::now();
    for (int i = 0; i < 40 && (i < 3 || micros_since(begin) < slice()); ++i) {
      pqxx::work holder(*primary_);
      holder.exec(bump(fmt::format("{} = 1", key_)));
      std::atomic<bool> done{false};
      Clock::time_point finished;
      std::optional<std::string> failed;
      std::thread thread([&] {
        try {
          run(waiter, bump(fmt::format("{} = 1", key_)));
        } catch (const std::exception& error) {
          failed = error.what();
        }
        finished = Clock::now();
        done = true;
      });
      // Wait until the waiter is queued on the row lock. Whatever fails here, the holder ends
      // its transaction and the waiter's thread is joined before the error goes on.
      bool waiting = false;
      Clock::time_point commit;
      try {
        for (int poll = 0; poll < 2000 && !waiting && !done; ++poll) {
          waiting = run(observer, fmt::format("SELECT count(*) FROM pg_stat_activity WHERE pid = {} AND "
                                              "wait_event_type = 'Lock'",
                                              waiter_pid))[0][0]
                        .as<int>() > 0;
        }
        commit = Clock::now();
        holder.commit();
      } catch (...) {
        holder.abort();
        thread.join();
        throw;
      }
      thread.join();
      if (failed) throw CalibrationError(3, "row lock measurement failed: " + *failed);
      if (waiting) samples.push_back(std::chrono::duration<double, std::micro>(finished - commit).count() - base_us_);
    }
    if (samples.empty()) throw CalibrationError(3, "row lock measurement: the waiter was never seen waiting");
    record("row_lock_hold_us", samples, "waiting point UPDATE: holder's COMMIT to the waiter's return, minus statement_base_us");
  }

  // Client time from `since` until every replica has replayed the primary's current WAL.
  double until_replayed(Clock::time_point since) {
    return until_replicas_reach(run(*primary_, "SELECT pg_current_wal_lsn()")[0][0].c_str(), "replay", since);
  }

  // Client time from `since` until every replica's `position` ("replay" or "receive") is at
  // `lsn` or past it.
  double until_replicas_reach(const std::string& lsn, const char* position, Clock::time_point since) {
    double longest = 0;
    for (auto& replica : replicas_) {
      while (!run(*replica, fmt::format("SELECT pg_last_wal_{}_lsn() >= '{}'::pg_lsn", position, lsn))[0][0].as<bool>()) {
        if (remaining_us() <= 0) throw CalibrationError(3, fmt::format("budget exhausted waiting for a replica to {}", position));
      }
      longest = std::max(longest, micros_since(since));
    }
    return longest;
  }

  void measure_replication() {
    if (replicas_.empty()) {
      record("replica_base_delay_us", {0}, "no --replica given: not measured");
      record("replica_apply_per_row_us", {0}, "no --replica given: not measured");
      return;
    }
    step("replica_base_delay_us");
    std::vector<double> base;
    const Clock::time_point begin = Clock::now();
    for (int i = 0; i < 100 && (i < 5 || micros_since(begin) < slice()); ++i) {
      run(*primary_, bump(fmt::format("{} = {}", key_, 1 + i)));
      base.push_back(until_replayed(Clock::now()));
    }
    record("replica_base_delay_us", base, "one-row UPDATE's COMMIT to its replay on the slowest replica");
    const double base_delay = percentile(base, 0.5);
    step("replica_apply_per_row_us");
    const std::int64_t batch = std::min<std::int64_t>(100000, options_.rows);
    std::vector<double> apply;
    const Clock::time_point apply_begin = Clock::now();
    bool paused = true;
    for (int i = 0; i < 8 && (i < 1 || micros_since(apply_begin) < 2 * slice()); ++i) {
      if (paused) {
        if (std::optional<double> replay = paused_replay_us(batch)) {
          apply.push_back(*replay / static_cast<double>(batch));
          continue;
        }
        paused = false;  // not allowed to pause replay: timed from the statement's start instead
      }
      const Clock::time_point t = Clock::now();
      run(*primary_, bump(fmt::format("{} BETWEEN 1 AND {}", key_, batch)));
      const double statement = micros_since(t);
      const double replayed = until_replayed(t);
      apply.push_back(std::max(statement, replayed - base_delay) / static_cast<double>(batch));
    }
    record("replica_apply_per_row_us", apply,
           paused ? fmt::format("UPDATE of {} rows received with replay paused: its replay on the slowest replica once resumed, per row", batch)
                  : fmt::format("UPDATE of {} rows: its start to its replay on the slowest replica, less the base delay, per row "
                                "(replay could not be paused)", batch));
  }

  // The replicas' own replay rate: replay paused (pg_wal_replay_pause) while the primary runs
  // the UPDATE and the replicas receive its WAL, then resumed and timed until replayed. Timed
  // from the statement's start instead, a replica that keeps up measures the primary's rate
  // (5.4 us a row at 100,000 rows, where 20,000-row batches ran at 3.4): the simulated replica
  // then fell behind batches the live one kept up with. nullopt when replay cannot be paused.
  std::optional<double> paused_replay_us(std::int64_t rows) {
    const auto resume = [&] {
      for (auto& replica : replicas_) {
        try {
          run(*replica, "SELECT pg_wal_replay_resume()");
        } catch (const std::exception&) {
          // a replica that did not pause (or is gone) has nothing to resume
        }
      }
    };
    try {
      for (auto& replica : replicas_) run(*replica, "SELECT pg_wal_replay_pause()");
    } catch (const std::exception&) {
      resume();
      return std::nullopt;
    }
    try {
      run(*primary_, bump(fmt::format("{} BETWEEN 1 AND {}", key_, rows)));
      {
        pqxx::work flush(*primary_);  // commits made with synchronous_commit = off reach the WAL sender now
        flush.exec("SET LOCAL synchronous_commit = on");
        flush.exec("SELECT txid_current()");
        flush.commit();
      }
      const std::string lsn = run(*primary_, "SELECT pg_current_wal_lsn()")[0][0].c_str();
      until_replicas_reach(lsn, "receive", Clock::now());
      const Clock::time_point t = Clock::now();
      resume();
      return until_replicas_reach(lsn, "replay", t);
    } catch (...) {
      resume();
      throw;
    }
  }

  const CalibrateOptions& options_;
  const std::function<void(const std::string&)>& progress_;
  Clock::time_point start_;
  std::unique_ptr<pqxx::connection> primary_;
  std::vector<std::unique_ptr<pqxx::connection>> replicas_;
  bool schema_created_ = false;
  struct FillerColumn {
    std::string definition;  // for CREATE TABLE
    std::string name;        // quoted
    std::string value;       // SQL drawing one value for row g
  };
  // The scratch table's column names, quoted (choose_columns).
  std::string key_ = "id", key_type_ = "bigint", a_ = "a", b_ = "b", n_ = "n", f_ = "f", e_ = "e", x_ = "x", r_ = "r";
  std::vector<FillerColumn> filler_;
  std::int64_t next_fresh_ = 1;  // the first id no window has updated since the last refill
  TableShape shape_;  // --table's shape (the filler's MappedColumns point into it)
  double app_write_us_ = 0;  // the quiet point UPDATE's median (measure_busy_host subtracts it)
  double base_us_ = 0;
  std::string current_ = "connecting";  // what step() last started
  CalibrationResult result_;
};

}  // namespace

CalibrationResult calibrate(const CalibrateOptions& options, const std::function<void(const std::string&)>& progress) {
  Calibration calibration(options, progress);
  try {
    CalibrationResult result = calibration.measure_all();
    calibration.drop_schema();
    return result;
  } catch (const CalibrationError&) {
    calibration.drop_schema();
    throw;
  } catch (const pqxx::broken_connection& error) {
    calibration.drop_schema();
    throw CalibrationError(3, "lost the connection: " + one_line(error.what()));
  } catch (const std::exception& error) {
    calibration.drop_schema();
    if (auto spent = calibration.budget_spent_during()) throw CalibrationError(3, *spent);
    throw CalibrationError(3, "a calibration statement failed: " + one_line(error.what()));
  }
}

std::string calibration_profile_yaml(const CalibrationResult& result) {
  std::string out = fmt::format(
      "# A cost profile (calibration.md), written by `rehearse calibrate`.\n"
      "# machine: {}\n# date: {}\n# server: PostgreSQL {}, {} streaming replica(s)\n"
      "# scratch table: {} rows; wall time {:.1f} s of a {} s budget\n"
      "# Each value is the median of its samples; the comment gives p10..p90 and the count.\n",
      result.machine, result.date, result.server_version, result.replicas, result.rows, result.wall_s,
      result.budget_us / 1'000'000);
  if (const auto& table = result.table) {
    out += comment_text(fmt::format("# table shape: {} ({}, {} pages, {} columns): its columns and pg_stats value "
                                    "distributions, drawn into the scratch table",
                                    table->name,
                                    table->rows_estimate ? fmt::format("about {} rows", *table->rows_estimate) : "never analyzed",
                                    table->pages, table->columns)) +
           "\n";
    for (const std::string& line : table->approximations) out += "#   approximated: " + comment_text(line) + "\n";
  }
  auto line = [](const std::string& key, const CalibrationMeasure& m) {
    return fmt::format("{}: {:.3f}  # spread {:.3f}..{:.3f} (p10..p90 of {}): {}\n", key, m.median, m.p10, m.p90, m.samples,
                       m.how);
  };
  for (const std::string& key : cost_profile_keys()) {
    if (key == "update_per_row_us") {
      out += "update_per_row_us:  # by batch size in rows\n";
      for (const CalibrationMeasure& m : result.measures) {
        if (m.key.rfind("update_per_row_us.", 0) == 0) out += "  " + line(m.key.substr(18), m);
      }
      continue;
    }
    for (const CalibrationMeasure& m : result.measures) {
      if (m.key == key) out += line(key, m);
    }
  }
  return out;
}

}  // namespace rehearse::live
