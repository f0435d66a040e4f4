#include "cli/gen_command.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>

#include "gen/population.h"

namespace crs::cli {

CLI::App* RegisterGen(CLI::App& app, GenCommandOptions* options) {
  CLI::App* g = app.add_subcommand(
      "gen", "Write a deterministic synthetic population of England as FHIR R4 NDJSON");
  g->add_option("--patients", options->patients, "Number of patients")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000000}));
  g->add_option("--seed", options->seed, "Random seed (same seed, same output)")
      ->capture_default_str();
  g->add_flag("--summaries", options->summaries,
              "Also write each patient's Summary Care Record as their practice uploads it to a "
              "national node: a GP summary document (Bundle) with allergies, repeat medication "
              "and problems, and the patient's consent decisions (some dissent, some agree to "
              "additional information)");
  g->add_flag("--records", options->records,
              "Also write each patient's allergies, medications and conditions as separate "
              "resources, as a GP practice's own (local) node holds them");
  g->add_option("--observations", options->observations,
                "Also write N vital-sign Observations per patient (weight, height, blood "
                "pressure, heart rate, temperature, BMI; LOINC and UCUM) over the last five years")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  g->add_option("--out", options->out, "Output file (default: stdout)");
  return g;
}

int RunGen(const GenCommandOptions& options) {
  std::FILE* out = stdout;
  if (!options.out.empty()) {
    out = std::fopen(options.out.c_str(), "wb");
    if (out == nullptr) {
      std::cerr << "crs gen: cannot open " << options.out << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  // A large stdio buffer: the generator emits ~100 MB/s of small lines.
  // Static: stdout keeps using it until exit.
  static std::vector<char> io_buffer(1 << 20);
  std::setvbuf(out, io_buffer.data(), _IOFBF, io_buffer.size());
  bool write_failed = false;
  gen::GenOptions gen_options{options.patients, options.seed, options.summaries,
                               options.records, options.observations};
  Status status = gen::Generate(gen_options, [&](std::string_view resource) {
    if (write_failed) return;
    if (std::fwrite(resource.data(), 1, resource.size(), out) != resource.size() ||
        std::fputc('\n', out) == EOF) {
      write_failed = true;
    }
  });
  if (std::fflush(out) != 0) write_failed = true;
  if (out != stdout && std::fclose(out) != 0) write_failed = true;
  if (!status.ok()) {
    std::cerr << "crs gen: " << status.message() << "\n";
    return 1;
  }
  if (write_failed) {
    std::cerr << "crs gen: write failed: " << std::strerror(errno) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace crs::cli
