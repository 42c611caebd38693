// The `rehearse` command line: argument parsing and wiring, nothing else (cli.md).
#pragma once

namespace rehearse::cli {

// Runs the command line; returns the process exit code of cli.md (0 pass, 1 violation,
// 2 bad input, 3 environment).
int main(int argc, char** argv);

}  // namespace rehearse::cli
