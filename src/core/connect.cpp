#include "core/connect.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string format_duration(milliseconds d) {
  if (d.count() < 10'000) return fmt::format("{} ms", d.count());
  return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
}

}  // namespace

std::pair<std::unique_ptr<Engine>, OpenResult> connect(const Project& project, bool create,
                                                       const ConnectOptions& options,
                                                       Reporter& reporter) {
  std::unique_ptr<Engine> engine = make_engine(project.url);
  const Clock::time_point start = Clock::now();
  Clock::time_point last_note = start;
  milliseconds backoff{100};
  while (true) {
    try {
      OpenResult result = engine->open(create);
      return {std::move(engine), result};
    } catch (Error& error) {
      if (error.kind() != ErrorKind::unreachable) throw;
      const milliseconds waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      if (waited >= options.wait) {
        if (error.where.empty()) error.where = project.url.redacted();
        if (error.state.empty()) error.state = "nothing was changed";
        if (options.wait.count() > 0) {
          // The engine's hint suggests --wait; it was given, so say how long was waited instead.
          error.hint = fmt::format(
              "the server did not accept connections within {}; check that it is running and "
              "reachable, or wait longer with --wait",
              format_duration(options.wait));
        } else if (error.hint.empty()) {
          error.hint =
              "check that the server is running and reachable, or use --wait 30s to wait "
              "for it";
        }
        throw;
      }
      if (Clock::now() - last_note >= std::chrono::seconds(5) || last_note == start) {
        reporter.note(fmt::format("waiting for {}: {}", project.url.redacted(), error.message()));
        last_note = Clock::now();
      }
      if (options.between_attempts) options.between_attempts();
      std::this_thread::sleep_for(std::min(backoff, options.wait - waited));
      backoff = std::min(backoff * 2, milliseconds(2000));
    }
  }
}

Connected load_and_connect(const Project& project, bool create, const ConnectOptions& options,
                           Reporter& reporter) {
  // The files are read on a second thread while this one connects and reads the ledger, then this
  // one shares what is left: on a start with nothing to do, the two are most of the work.
  MigrationLoader loader(project.migrations_dir, project.url.engine,
                         project.migrations_dir.string());
  std::thread background([&loader] { loader.work(); });
  std::optional<MigrationSet> files;
  // Rethrows the loader's error, if any.
  auto take_files = [&] {
    if (files) return;
    loader.work();
    if (background.joinable()) background.join();
    files = loader.take();
  };
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{background};

  Connected connected;
  ConnectOptions first = options;
  // While waiting for a server, the files are checked first: a bad one is the error to report.
  first.between_attempts = [&] {
    take_files();
    if (options.between_attempts) options.between_attempts();
  };
  bool denied = false;
  try {
    std::tie(connected.engine, connected.opened) = connect(project, false, first, reporter);
    if (connected.opened != OpenResult::missing) connected.ledger = connected.engine->read_ledger();
  } catch (const Error& error) {
    take_files();  // a bad file is the error to report
    // MySQL tells a user without privileges on a database that does not exist "access denied";
    // creating it may still be allowed.
    if (!create || error.kind() != ErrorKind::auth) throw;
    denied = true;
  } catch (...) {
    take_files();
    throw;
  }
  take_files();
  if (denied) {
    std::tie(connected.engine, connected.opened) = connect(project, true, options, reporter);
  } else if (connected.opened == OpenResult::missing && create) {
    connected.opened = connected.engine->open(true);
  }
  connected.files = std::move(*files);
  return connected;
}

}  // namespace dbinit
