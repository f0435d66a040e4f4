// The crs binary: everything lives in the library; main only hands over.
#include "cli/cli.h"

int main(int argc, char** argv) { return crs::cli::Main(argc, argv); }
