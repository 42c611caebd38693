// Assertions that stay on in every build (TigerBeetle style): a broken invariant of the
// program itself stops it with the condition, file and line. Operational failures are
// values (core/status.h), never assertions.
#pragma once

#include <cstdio>
#include <cstdlib>

#define REHEARSE_ASSERT(condition)                                                       \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "rehearse: assertion failed: %s (%s:%d)\n", #condition,      \
                   __FILE__, __LINE__);                                                  \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
