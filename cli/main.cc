// The `rehearse` executable.
#include "cli/commands.h"

int main(int argc, char** argv) { return rehearse::cli::main(argc, argv); }
