// CONTROL commands (xenstore-control): the command set is implementation
// defined; these follow the C daemon's names so that xenstore-control works
// unchanged.
#include <array>
#include <fstream>
#include <new>
#include <sstream>

#include <spdlog/spdlog.h>

#include "daemon/server.h"
#include "daemon/version.h"
#include "ops/handlers.h"
#include "store/path.h"

namespace cxs::daemon {
namespace {

std::string ok() { return std::string("OK\0", 3); }

std::string quota_report(const store::Quota& q, bool soft) {
  std::ostringstream out;
  if (soft) {
    out << "memory: " << q.soft_memory << "\n";
    return out.str();
  }
  store::for_each_hard_quota([&](const store::QuotaSpec& spec) {
    out << spec.name << ": " << q.*spec.field << "\n";
  });
  return out.str();
}

std::string rss_line() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return line;
  return "VmRSS: unknown";
}

// "version" is cxenstored's own (C 4.17 answers it EINVAL): which build
// serves, as `cxenstored --version` prints it.
constexpr std::array<std::string_view, 10> kCommands = {
    "check",     "help",  "live-update", "log",        "logfile",
    "memreport", "print", "quota",       "quota-soft", "version"};

}  // namespace

// No exception may leave a hook (noexcept): out of memory is a refusal.
Result<std::string> Server::control(
    const ops::Session& s, const std::vector<std::string_view>& args) noexcept {
  try {
    return control_command(s, args);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

Result<std::string> Server::control_command(
    const ops::Session& s, const std::vector<std::string_view>& args) {
  std::string_view cmd = args[0];
  std::size_t nargs = args.size() - 1;
  if (cmd == "live-update") return live_update_control(s, args);
  if (cmd == "help") {
    std::string out;
    for (auto c : kCommands) (out += c) += '\n';
    return reply_text(out);
  }
  if (cmd == "check") {
    std::string problems = check_store();
    if (!problems.empty()) {
      spdlog::error("store check: {}", problems);
      return reply_text(problems);
    }
    return ok();
  }
  if (cmd == "version") {
    if (nargs != 0) return XsErr::kEINVAL;
    return reply_text("cxenstored " + std::string(version_string()) + "\n");
  }
  if (cmd == "print") {
    if (nargs != 1) return XsErr::kEINVAL;
    spdlog::info("control print: {}", args[1]);
    return ok();
  }
  if (cmd == "log") {
    if (nargs != 1 || (args[1] != "on" && args[1] != "off"))
      return XsErr::kEINVAL;
    spdlog::set_level(args[1] == "on" ? spdlog::level::debug
                                      : spdlog::level::info);
    return ok();
  }
  if (cmd == "logfile") {
    if (nargs != 1) return XsErr::kEINVAL;
    return trace_.open(std::string(args[1])) ? Result<std::string>(ok())
                                             : Result<std::string>(XsErr::kEIO);
  }
  if (cmd == "memreport") {
    std::ostringstream out;
    // What the memory quota charges, summed: every domain's nodes, and
    // what each connection holds (watches, transactions, queues).
    std::size_t held = 0;
    for (const auto& kv : clients_) held += memory_held(kv.second);
    out << rss_line() << "\nnodes: " << store_.tree().size()
        << "\nwatches: " << watches_.total()
        << "\ntransactions: " << store_.open_transactions()
        << "\nconnections: " << clients_.size()
        << "\ncharged-nodes: " << store_.tree().total_usage().bytes
        << "\ncharged-connections: " << held << "\n";
    spdlog::info("memreport: {}", out.str());
    return reply_text(out.str());
  }
  if (cmd == "quota" || cmd == "quota-soft") {
    bool soft = cmd == "quota-soft";
    if (nargs == 0) return reply_text(quota_report(quota_, soft));
    // quota set <name> <value> | quota-soft set memory <value>
    if (nargs == 3 && args[1] == "set") {
      auto value = ops::parse_decimal<std::size_t>(args[3]);
      if (!value) return XsErr::kEINVAL;
      if (soft) {
        if (args[2] != "memory") return XsErr::kEINVAL;
        quota_.soft_memory = *value;
        return ok();
      }
      CXS_TRY(set_quota(std::nullopt, args[2], *value));
      return ok();
    }
    // quota <domid>: what the domain uses
    if (nargs == 1 && !soft) {
      auto domid = ops::parse_domid(args[1]);
      if (!domid) return XsErr::kEINVAL;
      std::uint32_t dom = domid->value;
      store::Tree::Usage u = store_.tree().usage(*domid);
      std::size_t watches = 0;
      std::size_t memory = u.bytes;  // as the memory quota counts it
      for (const auto& [id, c] : clients_) {
        if (c.session.caller.dom.value != dom) continue;
        watches += watches_.count(id);
        memory += memory_held(c);
      }
      std::ostringstream out;
      out << "nodes: " << u.nodes << "\nmemory: " << memory
          << "\nwatches: " << watches << "\n";
      return reply_text(out.str());
    }
    return XsErr::kEINVAL;
  }
  return XsErr::kEINVAL;
}

// CONTROL live-update (see live_update.h). As in the C daemon, a step that
// cannot be taken is answered with a text, not an error: xenstore-control
// prints it. A -s gets no reply here: the new daemon sends the "OK".
Result<std::string> Server::live_update_control(
    const ops::Session& s, const std::vector<std::string_view>& args) {
  auto parsed = parse_live_update_args(args);
  if (!parsed) return XsErr::kEINVAL;
  bool owner = lu_ && lu_->owner == s.conn;
  switch (parsed->step) {
    case LiveUpdateArgs::Step::kFile: {
      std::string binary(parsed->value);
      if (auto why = check_target_file(binary)) return reply_text(*why);
      if (lu_) return reply_text("live-update session already active.");
      lu_.emplace();
      lu_->owner = s.conn;
      lu_->binary = std::move(binary);
      spdlog::info("live update: session opened by conn {} for {}",
                   s.conn.value, lu_->binary);
      return ok();
    }
    case LiveUpdateArgs::Step::kCmdline:
      if (!owner || lu_->started)
        return reply_text("Not in live-update session.");
      lu_->cmdline = std::string(parsed->value);
      return ok();
    case LiveUpdateArgs::Step::kAbort:
      if (!owner) return reply_text("No live-update session active.");
      spdlog::info("live update: aborted by conn {}", s.conn.value);
      end_live_update(std::nullopt);
      return ok();
    case LiveUpdateArgs::Step::kStart:
      if (!owner || lu_->started)
        return reply_text("Not in live-update session.");
      lu_->started = true;
      lu_->force = parsed->force;
      lu_->timeout_s = parsed->timeout_s;
      lu_->version = parsed->version;
      lu_->start_request = *handling_;
      lu_->started_at = LiveUpdateSession::Clock::now();
      reply_deferred_ = true;
      spdlog::info("live update: pending (timeout {} s{})", lu_->timeout_s,
                   lu_->force ? ", forced" : "");
      return std::string();
  }
  return XsErr::kEINVAL;
}

// Every child named by a node exists, and every node but the root and the
// special nodes is named by its parent.
std::string Server::check_store() const {
  std::ostringstream problems;
  std::vector<std::string> stack{"/"};
  std::size_t reachable = 0;
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    store::NodeView n = store_.tree().find(path);
    if (!n) {
      problems << "missing child " << path << "; ";
      continue;
    }
    ++reachable;
    n.children().for_each([&](std::string_view name) {
      stack.push_back(store::join(path, name));
    });
  }
  std::size_t specials = 2;
  if (reachable + specials != store_.tree().size())
    problems << "unreachable nodes: "
             << store_.tree().size() - specials - reachable << "; ";
  return problems.str();
}

}  // namespace cxs::daemon
