// Gives a loaded scenario the shape of a real table (core/table_shape.h): for `conform`, whose
// simulated run must draw the values its live twin's table holds, and for importing schemas.
#pragma once

#include "core/model.h"
#include "core/status.h"
#include "core/table_shape.h"

namespace rehearse {

// The scenario's table takes the shape's columns (in the table's order, each with the type,
// scale, gen and null share map_table_shape chose) and its row estimate (the scenario's `rows`
// is kept when the table was never analyzed). The table's name is kept, and so is the scenario's
// own column spec (gen, nullable) of a column pg_stats has no row for. For a table rehearse
// prepared itself, read the shape with ReadShapeOptions::analyze (real_backends/table_shape.h).
// REQUIRES of the shape, else Status::invalid naming every problem and the scenario unchanged:
// - its types are all ones map_table_shape supports;
// - it has the model's key: a single bigint/integer primary key column named `id`;
// - its other column names are scenario identifiers (a-z, 0-9, '_', not starting with a digit);
// - every column the scenario already had is in it, with the same scenario type (the
//   migration's operations and expressions were checked against those);
// - its row estimate and column count are within scenarios/limits.h, and so is the memory a run
//   of the shaped scenario is estimated to need (memory_limit()).
Status apply_table_shape(Scenario& scenario, const TableShape& shape);

}  // namespace rehearse
