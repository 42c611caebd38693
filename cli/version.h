// The build's version, as `rehearse --version` prints it and the report header shows it: the
// CMake project version, and in a git checkout the commit it was built from (`git describe
// --always --dirty` at build time, cli/version.cmake): "0.1.0 (4ae6ee9)", "0.1.0 (4ae6ee9-dirty)",
// or "0.1.0" outside a git checkout.
#pragma once

namespace rehearse::cli {

const char* build_version();

}  // namespace rehearse::cli
