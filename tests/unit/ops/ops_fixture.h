// Shared fixture for the ops tests: a store, a watch index and a helper that
// drives ops::dispatch the way the daemon does, one Ctx per request.
#pragma once

#include <gtest/gtest.h>

#include <new>

#include <string>
#include <string_view>
#include <vector>

#include "ops/dispatch.h"
#include "wire/message_type.h"

namespace cxs::ops {

class FakeDaemon : public DaemonHooks {
 public:
  bool is_domain_introduced(DomId dom) const noexcept override {
    return dom.value == 0 || dom.value == 5;
  }
  Status introduce(DomId, std::uint64_t, std::uint32_t,
                   store::EventSink&) noexcept override {
    return {};
  }
  Status release(DomId, store::EventSink&) noexcept override { return {}; }
  Status resume(DomId) noexcept override { return {}; }
  Status set_target(DomId, DomId) noexcept override { return {}; }
  Result<std::size_t> get_quota(std::optional<DomId> dom,
                                std::string_view name) noexcept override {
    if (name != "nodes") return XsErr::kEINVAL;
    return dom ? std::size_t{7} : std::size_t{1000};
  }
  Status set_quota(std::optional<DomId>, std::string_view name,
                   std::size_t value) noexcept override {
    if (name != "nodes") return XsErr::kEINVAL;
    last_quota = value;
    return {};
  }
  Result<std::uint32_t> get_feature(std::optional<DomId>) noexcept override {
    return std::uint32_t{7};
  }
  Status set_feature(DomId, std::uint32_t value) noexcept override {
    if (value & ~7u) return XsErr::kEINVAL;
    return {};
  }
  std::size_t last_quota = 0;
  Result<std::string> control(
      const Session&, const std::vector<std::string_view>& args) noexcept
      override {
    if (args[0] == "fail") return XsErr::kEINVAL;
    try {  // noexcept, as the daemon's: out of memory is a refusal
      std::string out = "control:";
      for (auto a : args) out += std::string(a) + ",";
      return out;
    } catch (const std::bad_alloc&) {
      return XsErr::kENOMEM;
    }
  }
};

// One reply, the events it caused and the events for the caller alone.
struct Outcome {
  Result<Reply> reply;
  store::EventSink events;
  std::vector<DirectEvent> direct;

  bool ok() const { return reply.ok(); }
  XsErr error() const { return reply.ok() ? XsErr::kEIO : reply.error(); }
  std::string payload() const {
    return reply.ok() ? std::string(reply->payload()) : std::string("<error>");
  }
};

class OpsTest : public ::testing::Test {
 protected:
  Session dom0_{ConnId{1}, store::Caller{DomId{0}, true, std::nullopt}};
  Session dom5_{ConnId{5}, store::Caller{DomId{5}, false, std::nullopt}};

  Outcome send(const Session& s, wire::MsgType type, std::string_view payload,
               std::uint32_t tx_id = 0) {
    return send(s, static_cast<std::uint32_t>(type), payload, tx_id);
  }
  Outcome send(const Session& s, std::uint32_t type, std::string_view payload,
               std::uint32_t tx_id = 0) {
    Ctx ctx(store_, watches_, s, limits_, &daemon_);
    wire::Header hdr{type, 77, tx_id,
                     static_cast<std::uint32_t>(payload.size())};
    auto r = dispatch(ctx, Request{hdr, payload});
    return Outcome{std::move(r), std::move(ctx.events),
                   std::move(ctx.direct_events)};
  }
  // Shorthands for dom0.
  Outcome send(wire::MsgType type, std::string_view payload,
               std::uint32_t tx_id = 0) {
    return send(dom0_, type, payload, tx_id);
  }
  static std::string z(std::string_view s) {  // NUL-terminated argument
    return std::string(s) + '\0';
  }
  std::uint32_t start_tx(const Session& s) {
    auto o = send(s, wire::MsgType::XS_TRANSACTION_START, z(""));
    EXPECT_TRUE(o.ok());
    return static_cast<std::uint32_t>(std::stoul(o.payload()));
  }

  store::Store store_;
  store::WatchIndex watches_;
  Limits limits_;
  FakeDaemon daemon_;
};

inline const std::string kOk("OK\0", 3);

}  // namespace cxs::ops
