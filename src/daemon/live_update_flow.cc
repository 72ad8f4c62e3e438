// The live update once started (-s): holding new transactions, waiting for
// the open ones, then dump, check the target, exec (see live_update.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "daemon/process.h"
#include "daemon/server.h"
#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

// Writes all of `bytes`; the errno of a failure, else 0.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) (out += out.empty() ? "" : " ") += a;
  return out;
}

// The last non-empty line of a child's output, for a one-line reason.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  std::size_t nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

// How long the target may take to answer --help, and to restore the state
// in a dry run (100 000 nodes take well under a second).
constexpr int kHelpTimeoutMs = 5000;
constexpr int kDryRunTimeoutMs = 30000;

}  // namespace

// The state, written to `path` as it is produced; the errno of a failure,
// else 0. Throws what dump_state throws (a record that cannot be written).
int Server::write_state_file(const std::string& path,
                             LiveUpdateSession& session) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return errno;
  int err = 0;
  auto write_piece = [&](std::string_view piece) {
    err = write_all(fd.get(), piece);
    return err == 0;
  };
  bool ok = dump_state(session.version, &session, write_piece,
                       &session.dump_buffers);
  if (::close(fd.release()) != 0 && err == 0) err = errno;
  return err != 0 ? err : ok ? 0 : EIO;
}

// A TRANSACTION_START from a connection with none open waits while an
// update is pending (as in C): the request stays unread in the connection,
// so the new daemon (or this one, if the update is given up) handles it.
bool Server::hold_for_live_update(Client& c, const wire::MessageView& msg) {
  if (!lu_ || !lu_->started ||
      msg.hdr.type !=
          static_cast<std::uint32_t>(wire::MsgType::XS_TRANSACTION_START) ||
      store_.transaction_count(c.conn->id()) != 0)
    return false;
  c.conn->put_back(msg);
  c.holding = true;
  return true;
}

// Connections with a transaction open, and for how long, unless -F and
// every one of them is older than the timeout.
std::optional<std::string> Server::live_update_blocked(
    LiveUpdateSession::Clock::time_point now) const {
  std::string open;
  bool blocked = false;
  auto timeout = std::chrono::seconds(lu_->timeout_s);
  for (const auto& [id, c] : clients_) {
    if (!c.ta_start || c.conn->closing() || store_.transaction_count(id) == 0)
      continue;
    auto age = now - *c.ta_start;
    if (!lu_->force || age < timeout) blocked = true;
    open += "Domain " + std::to_string(c.session.caller.dom.value) + ": " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
            " s\n";
  }
  if (!blocked) return std::nullopt;
  return "Domains with long running transactions:\n" + open;
}

// Each loop turn while an update is pending.
void Server::advance_live_update() {
  if (!lu_ || !lu_->started || lu_->check_pid > 0) return;
  auto now = LiveUpdateSession::Clock::now();
  std::optional<std::string> why = live_update_blocked(now);
  if (why) {
    if (now < lu_->started_at + std::chrono::seconds(lu_->timeout_s)) return;
    if (!lu_->force) {
      spdlog::warn("live update: given up: {}", *why);
      end_live_update(reply_text(*why));
      return;
    }
    // Forced: the open transactions go along (C drops them; we keep them).
  }
  if (!lu_->checked) {
    start_target_check();
    return;
  }
  activate_live_update();
}

// The target is checked by a child on fork's snapshot of the state, while
// this process serves on; finish_target_check() reads its verdict.
void Server::start_target_check() {
  std::string path = state_file_path(opts_) + ".check";
  // Domains that died unseen go first (see activate_live_update), so that
  // a foreign target is judged on the owners that will be written.
  if (hv_) check_domains(/*live_update=*/true);
  lu_->foreign_refusal = foreign_target_refusal(lu_->binary);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    end_live_update(reply_text(std::string("Cannot check the target: ") +
                               std::strerror(errno)));
    return;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    end_live_update(reply_text(std::string("Cannot check the target: ") +
                               std::strerror(errno)));
    return;
  }
  if (pid == 0) run_target_check(path, write_end.get());
  // The final dump's buffers, touched now while clients are served. After
  // the fork, not before: every page the two processes share is
  // write-protected until first written, and such a fault in the dump
  // would cost as much as a fresh page.
  lu_->dump_buffers.prepare(store_.tree().size());
  lu_->check_pid = pid;
  lu_->check_pipe = std::move(read_end);
  if (!loop_.add(lu_->check_pipe.get(), kLiveUpdateCheckToken, true, false)) {
    // end_live_update() kills and reaps the child.
    end_live_update(reply_text("Cannot check the target: epoll_ctl failed"));
    return;
  }
  spdlog::info("live update: checking {} (pid {})", lu_->binary, pid);
}

// In the forked child: write the snapshot, check the target, report one
// line ("O" ok, "C" ok and a cxenstored, "F" + why) and leave without
// running a destructor (they would unlink the parent's socket).
void Server::run_target_check(const std::string& path, int report_fd) {
  std::string verdict;
  try {
    std::vector<std::string> argv =
        live_update_argv(lu_->binary, lu_->cmdline, opts_.argv);
    if (int err = write_state_file(path, *lu_)) {
      verdict = "FCannot write " + path + ": " + std::strerror(err);
    } else {
      TargetCheck t = check_live_update_target(argv, path);
      verdict =
          t.refusal ? "F" + *t.refusal : (t.cxenstored ? "C" : "O") + t.summary;
    }
  } catch (const std::exception& e) {
    verdict = std::string("FCannot check the target: ") + e.what();
  }
  ::unlink(path.c_str());
  write_all(report_fd, std::string_view(verdict).substr(0, 4000));
  ::_exit(0);
}

void Server::finish_target_check() {
  if (!lu_ || lu_->check_pid <= 0) return;
  std::string verdict;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(lu_->check_pipe.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child closed its end: it has reported
    verdict.append(buf, static_cast<std::size_t>(n));
  }
  loop_.remove(lu_->check_pipe.get());
  lu_->check_pipe.reset();
  int status = 0;
  while (::waitpid(lu_->check_pid, &status, 0) < 0 && errno == EINTR) {
  }
  lu_->check_pid = -1;
  if (verdict.empty() || verdict[0] == 'F') {
    std::string why = verdict.empty() ? "The target check failed (status " +
                                            std::to_string(status) + ")"
                                      : verdict.substr(1);
    spdlog::error("live update: refused: {}", why);
    end_live_update(reply_text(why));
    return;
  }
  lu_->checked = true;
  lu_->target_is_cxenstored = verdict[0] == 'C';
  spdlog::info("live update: target checked{}{}",
               verdict.size() > 1 ? ": " : "", verdict.substr(1));
}

void Server::activate_live_update() {
  auto t0 = LiveUpdateSession::Clock::now();
  // A domain that died unseen (its VIRQ not handled yet) is released now,
  // as the VIRQ would have: its nodes must not reach a reader that needs
  // every owner to exist (C 4.17 dies on one).
  if (hv_) check_domains(/*live_update=*/true);
  auto ms = [](auto d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  std::string path = state_file_path(opts_);
  std::vector<std::string> argv =
      live_update_argv(lu_->binary, lu_->cmdline, opts_.argv);
  int err = 0;
  try {
    err = write_state_file(path, *lu_);
  } catch (const std::exception& e) {
    spdlog::error("live update: cannot write the state: {}", e.what());
    ::unlink(path.c_str());
    end_live_update(reply_text("Dump write error"));
    return;
  }
  if (err) {
    spdlog::error("live update: writing {}: {}", path, std::strerror(err));
    ::unlink(path.c_str());
    end_live_update(reply_text(err == ENOENT || err == EACCES
                                   ? "Dump state open error"
                                   : "Dump write error"));
    return;
  }
  auto t1 = LiveUpdateSession::Clock::now();
  spdlog::info("live update: state written ({:.1f} ms); exec {}", ms(t1 - t0),
               joined(argv));
  // exec_replace() unblocks the signals the signalfd takes: one already
  // pending would then act by default (SIGHUP ends a process). Take them
  // now; a stop asked for wins over the update.
  on_signal();
  if (stopping_) {
    ::unlink(path.c_str());
    end_live_update(reply_text("xenstored is stopping"));
    return;
  }
  // The new daemon binds VIRQ_DOM_EXC itself; only one holder may exist.
  if (virq_port_) hv_->events->unbind(*virq_port_);
  if (!lu_->target_is_cxenstored) advertise_features(false);
  set_fds_inherited(true);
  spdlog::default_logger()->flush();
  err = exec_replace(argv);
  // Still here: the exec failed. Nothing was sent since the dump, so the
  // state in memory is still the truth; serve on as before.
  set_fds_inherited(false);
  advertise_features(true);
  if (virq_port_) {
    auto virq = hv_->events->bind_dom_exc_virq();
    if (virq) {
      virq_port_ = *virq;
    } else {
      spdlog::critical(
          "live update: VIRQ_DOM_EXC cannot be bound again: "
          "domain deaths go unnoticed");
      virq_port_.reset();
    }
  }
  ::unlink(path.c_str());
  spdlog::error("live update: exec {}: {}", argv[0], std::strerror(err));
  end_live_update(reply_text("Error activating new binary."));
}

// Beyond C, which execs blindly: a target that does not answer --help, or
// a cxenstored that cannot restore this very state, would leave the host
// without a xenstored. (Runs in the check child: no logging here.)
Server::TargetCheck Server::check_live_update_target(
    const std::vector<std::string>& argv, const std::string& state_path) const {
  TargetCheck out;
  ChildResult help = run_child({argv[0], "--help"}, kHelpTimeoutMs);
  if (!help.succeeded()) {
    out.refusal =
        "Target " + argv[0] + " fails --help (" + help.describe() + ")";
    return out;
  }
  // "Usage: cxenstored [options]": a cxenstored checks the state itself.
  out.cxenstored = help.output.find("cxenstored") != std::string::npos;
  if (!out.cxenstored) {
    out.refusal = lu_->foreign_refusal;
    return out;
  }
  std::vector<std::string> dry_run = argv;
  dry_run.push_back("--check-state");
  dry_run.push_back(state_path);
  ChildResult check = run_child(dry_run, kDryRunTimeoutMs);
  if (!check.succeeded()) {
    out.refusal = "Target " + argv[0] + " cannot restore the state (" +
                  check.describe() + "): " + last_line(check.output);
    return out;
  }
  out.summary = last_line(check.output);
  return out;
}

// What another xenstored (C 4.17) would die of, where it execs blindly:
// cxenstored's own options on its command line (they come along without
// -c), and a node whose owner it cannot account to an existing domain
// (DOMID_ANY, or a domain gone meanwhile).
std::optional<std::string> Server::foreign_target_refusal(
    const std::string& binary) const {
  if (!lu_->cmdline && !opts_.own_options.empty())
    return "Target " + binary + " is not cxenstored and would get option " +
           opts_.own_options.front() + ": give its command line with -c";
  std::unordered_map<DomId, bool> exists{{master_domid_, true},
                                         {priv_domid_, true}};
  std::optional<std::string> refusal;
  store_.tree().for_each_node([&](store::NodeView n, const auto& path_of) {
    const PermList& perms = n.perms().list();
    if (refusal || perms.empty()) return;
    DomId owner = perms.front().dom;
    auto [it, fresh] = exists.try_emplace(owner, false);
    if (fresh)
      it->second = owner.value < kDomidFirstReserved && hv_ &&
                   hv_->domains->query(owner).has_value();
    if (!it->second)
      refusal = "Target " + binary + " cannot restore the state: node " +
                path_of() + " is owned by domain " +
                std::to_string(owner.value) + ", which does not exist";
  });
  return refusal;
}

// A daemon of another kind (C 4.17) offers no ring features: the pages
// must not claim what it will not honour. Put back if the exec fails.
void Server::advertise_features(bool ours) noexcept {
  domains_.for_each([&](const Domain& d) {
    if (Client* c = client_of(d))
      if (c->ring) c->ring->advertise_features(ours ? d.features : 0);
  });
}

// Ends the session: the requester of -s gets `reply` (if it started), and
// the connections holding a TRANSACTION_START are served again.
void Server::end_live_update(std::optional<std::string> reply) {
  if (!lu_) return;
  if (lu_->check_pid > 0) {
    ::kill(lu_->check_pid, SIGKILL);
    while (::waitpid(lu_->check_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    loop_.remove(lu_->check_pipe.get());
  }
  if (reply && lu_->started) {
    if (Client* owner = clients_.find_open(lu_->owner)) {
      sender_.send_reply(*owner->conn, lu_->start_request,
                         ops::Reply(std::move(*reply)));
      update_interest(*owner);
    }
  }
  lu_.reset();
  for (auto& [id, c] : clients_) {
    if (!c.holding) continue;
    c.holding = false;
    if (c.ring)
      clients_.kick(id);
    else
      update_interest(c);
  }
}

// The fds the new daemon takes over must survive the exec; everything else
// the daemon opens is close-on-exec.
void Server::set_fds_inherited(bool inherited) noexcept {
  auto set = [inherited](int fd) {
    if (fd >= 0 && !set_inherited(fd, inherited))
      spdlog::error("live update: fd {}: {}", fd, std::strerror(errno));
  };
  set(listener_.fd());
  // The socket's lock goes along, held all the while, so no second daemon
  // can take the path between the exec and the new daemon's start-up; the
  // new one adopts it (SocketLock::adopt). A C xenstored keeps it open
  // unknowingly, and hands it back if it updates to cxenstored again.
  set(listener_.lock_fd());
  if (hv_) set(hv_->events->fd());
  for (auto& [id, c] : clients_)
    if (!c.ring && !c.conn->closing()) set(c.conn->transport().poll_fd());
}

}  // namespace cxs::daemon
