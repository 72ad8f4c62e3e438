// CONTROL commands (xenstore-control): the command set is implementation
// defined; these follow the C daemon's names so that xenstore-control works
// unchanged. One table row per command (name, parameters as `help` shows
// them, argument counts, handler): dispatch, the argument-count check and
// `help` all read it. Control reads and changes the Server it belongs to
// (quotas, the store, connections, the trace, live update).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/result.h"
#include "ops/context.h"

namespace cxs::daemon {

class Server;

class Control {
 public:
  using Args = std::vector<std::string_view>;  // args[0]: the command

  explicit Control(Server& server) noexcept : server_(server) {}

  // EINVAL for an unknown command or a wrong argument count. May throw
  // std::bad_alloc (Server::control answers ENOMEM).
  Result<std::string> run(const ops::Session& s, const Args& args);
  // "name\tparameters\n" per command, in table order, as C prints it.
  static std::string help();

 private:
  using Handler = Result<std::string> (Control::*)(const ops::Session&,
                                                   const Args&);
  struct Command {
    std::string_view name;
    std::string_view params;  // as `help` shows them
    std::size_t min_args;     // not counting the command
    std::size_t max_args;
    Handler handler;
  };
  static const std::array<Command, 10> kCommands;

  Result<std::string> check(const ops::Session&, const Args&);
  Result<std::string> log(const ops::Session&, const Args& args);
  Result<std::string> live_update(const ops::Session& s, const Args& args);
  Result<std::string> logfile(const ops::Session&, const Args& args);
  Result<std::string> memreport(const ops::Session&, const Args&);
  Result<std::string> print(const ops::Session&, const Args& args);
  Result<std::string> quota(const ops::Session&, const Args& args);
  Result<std::string> quota_soft(const ops::Session&, const Args& args);
  Result<std::string> version(const ops::Session&, const Args&);
  Result<std::string> show_help(const ops::Session&, const Args&);

  Server& server_;
};

}  // namespace cxs::daemon
