// A simulated region database (the primary): the migrated table, its schema, the migration
// checkpoints and the region's feature flags. Protected writes carry a fence; with
// `fencing: storage` a token lower than the highest accepted is rejected (a conditional write
// at the storage layer). Every protected write is recorded in the history as applied or
// rejected, with the writer and its token: the mutual-exclusion checker reads exactly that.
//
// Its methods are the server side: they run on the database node when a request arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/ports.h"
#include "core/value.h"
#include "sim/random.h"

namespace rehearse::sim {

// Where the database reports its protected writes (the world appends them to the history).
using WriteSink = std::function<void(Event event)>;

class SimDatabase {
 public:
  // Fills the table with `table.rows` rows drawn from `rng`.
  SimDatabase(std::string region, const TableSpec& table, WriteSink sink, Rng rng);

  // A deliberately broken store for checker tests: accepts every token, as if it forgot to
  // check them. Never set by scenarios.
  void set_ignore_tokens(bool ignore) { ignore_tokens_ = ignore; }

  // Server-side operations; `actor` is the engine that sent the request. `busy_us` receives
  // how long the statement kept the server busy.
  Status ddl(const DdlStatement& statement, const Fence& fence, const std::string& actor, TimeUs* busy_us);
  Result<std::int64_t> backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence,
                                const std::string& actor, TimeUs* busy_us);
  RangeChecksum checksum(const BackfillBatch& window, TimeUs* busy_us) const;
  KeyRange key_range() const;
  std::vector<std::string> column_names() const;
  Checkpoint checkpoint(const std::string& migration) const;
  Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence, const std::string& actor);
  Status set_flag(const std::string& flag, bool on, const Fence& fence, const std::string& actor);
  bool flag(const std::string& flag) const;

  const std::string& region() const { return region_; }
  std::int64_t highest_token() const { return highest_token_; }
  std::int64_t rows_backfilled() const { return rows_backfilled_; }
  // The value of `column` in the row with `id`; nullptr when there is no such row or column.
  const Value* cell(std::int64_t id, const std::string& column) const;

 private:
  struct Column {
    std::string name;
    ColumnType type;
    bool live = true;  // false once dropped
  };

  bool admit(const Fence& fence, WriteKind kind, const std::string& actor, const std::string& detail,
             std::int64_t a = 0, std::int64_t b = 0);
  int column_index(const std::string& name) const;
  void fill_table(const TableSpec& table, Rng& rng);
  bool fill_row(std::size_t row, const BackfillBatch& batch);
  Value evaluate_fill(std::size_t row, const ColumnFill& fill) const;

  std::string region_;
  std::string table_name_;
  WriteSink sink_;
  std::vector<Column> columns_;             // index 0 is `id`
  std::vector<std::vector<Value>> rows_;    // rows_[i][column]; row i has id i + 1
  std::map<std::string, Checkpoint> checkpoints_;
  std::map<std::string, bool> flags_;
  std::int64_t highest_token_ = 0;
  std::int64_t rows_backfilled_ = 0;
  bool ignore_tokens_ = false;
};

// Draws a value for a column from its `gen` rule (ranges, email, one_of(...), uuid).
Value generate_value(const ColumnSpec& column, Rng& rng);

}  // namespace rehearse::sim
