// Durations and moments of simulated time as text: the one formatter, with the few styles the
// program writes. Each style is the form one kind of output has always had; the fault
// descriptions of sim/faults.cc go into the history (and its trace hash), so `whole` must never
// change. Called from every folder: the loader's errors and the scenario writer, lint, the
// invariant checkers, the fault injector, the CLI's text output and the postmortem.
#pragma once

#include <string>

#include "core/model.h"

namespace rehearse {

enum class DurationStyle {
  // As scenario files write a duration: the largest of h, m, s, ms and us that divides it.
  // "1h", "90s", "1500ms", "250us"; 0 is "0s".
  scenario,
  // Whole seconds, milliseconds or microseconds, whichever divides it, never minutes: "90s",
  // "1500ms", "1500001us"; 0 is "0s". Fault descriptions in the history, `rehearse plan`.
  whole,
  // Whole seconds or milliseconds, else below 1 ms in microseconds and above to a tenth of a
  // millisecond: "10s", "150ms", "1800.3ms", "40us"; 0 is "0ms". Lint findings (estimates).
  estimate,
  // Exact, in hours, minutes and seconds: "850us", "12.5ms", "1.5s", "2m10s", "1h0m5s"; a
  // negative duration with "-". The invariant checkers' findings.
  compound,
  // Seconds with milliseconds (truncated), for a moment or the length of a run: "23.992s", "-0.500s".
  // The CLI's text output.
  clock,
  // `clock` with a space before the unit: "23.992 s". The postmortem's times.
  clock_spaced,
  // Rounded, with a space before the unit: below 1 ms in microseconds, below 1 s in milliseconds
  // to one decimal, else in seconds to three; no trailing zeros: "800 us", "150 ms", "4.075 s",
  // "20 s". The postmortem's durations.
  rounded_spaced,
};

// "4.075" from 4.075 (at most `digits` decimals, no trailing zeros): the postmortem's durations
// and shares.
std::string trimmed_decimal(double value, int digits);

// `us` microseconds written in `style`. Any value is accepted; a negative one starts with "-".
std::string duration_text(TimeUs us, DurationStyle style);

}  // namespace rehearse
