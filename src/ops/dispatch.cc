#include "ops/dispatch.h"

#include <array>
#include <new>

namespace cxs::ops {
namespace {

enum Flags : unsigned {
  kNone = 0,
  kPrivileged = 1,  // dom0 / --priv-domid only
  kNoTx = 2,        // tx_id is ignored (C's XS_FLAG_NOTID)
  // tx_id must be 0 or name a live transaction of the caller (ENOENT
  // otherwise), but the request does not run in it. C 4.17 looks the id up
  // for every type but WATCH and UNWATCH; a stale id must fail alike here.
  kTxChecked = 4,
  // Changes the store (or may, in a commit): rate-limited for guests while
  // transactions are open (XSA-206, daemon/write_limit.h).
  kChange = 8,
};

struct Row {
  Handler handler = nullptr;
  unsigned flags = kNone;
};

using wire::MsgType;

constexpr std::array<Row, static_cast<std::size_t>(MsgType::XS_TYPE_COUNT)>
make_table() {
  std::array<Row, static_cast<std::size_t>(MsgType::XS_TYPE_COUNT)> t{};
  auto set = [&t](MsgType type, Handler h, unsigned flags) {
    t[static_cast<std::size_t>(type)] = Row{h, flags};
  };
  set(MsgType::XS_CONTROL, do_control, kPrivileged | kTxChecked);
  set(MsgType::XS_DIRECTORY, do_directory, kNone);
  set(MsgType::XS_READ, do_read, kNone);
  set(MsgType::XS_GET_PERMS, do_get_perms, kNone);
  set(MsgType::XS_WATCH, do_watch, kNoTx);
  set(MsgType::XS_UNWATCH, do_unwatch, kNoTx);
  set(MsgType::XS_TRANSACTION_START, do_transaction_start, kNone);
  set(MsgType::XS_TRANSACTION_END, do_transaction_end, kChange);
  set(MsgType::XS_GET_DOMAIN_PATH, do_get_domain_path, kTxChecked);
  set(MsgType::XS_WRITE, do_write, kChange);
  set(MsgType::XS_MKDIR, do_mkdir, kChange);
  set(MsgType::XS_RM, do_rm, kChange);
  set(MsgType::XS_SET_PERMS, do_set_perms, kChange);
  set(MsgType::XS_IS_DOMAIN_INTRODUCED, do_is_domain_introduced,
      kPrivileged | kTxChecked);
  set(MsgType::XS_INTRODUCE, do_introduce, kPrivileged | kTxChecked);
  set(MsgType::XS_RELEASE, do_release, kPrivileged | kTxChecked);
  set(MsgType::XS_RESUME, do_resume, kPrivileged | kTxChecked);
  set(MsgType::XS_SET_TARGET, do_set_target, kPrivileged | kTxChecked);
  set(MsgType::XS_RESET_WATCHES, do_reset_watches, kTxChecked);
  set(MsgType::XS_DIRECTORY_PART, do_directory_part, kNone);
  set(MsgType::XS_GET_FEATURE, do_get_feature, kPrivileged | kNoTx);
  set(MsgType::XS_SET_FEATURE, do_set_feature, kPrivileged | kNoTx);
  set(MsgType::XS_GET_QUOTA, do_get_quota, kPrivileged | kNoTx);
  set(MsgType::XS_SET_QUOTA, do_set_quota, kPrivileged | kNoTx);
  return t;
}

constexpr auto kTable = make_table();

}  // namespace

bool changes_store(std::uint32_t type) noexcept {
  return type < kTable.size() && (kTable[type].flags & kChange);
}

Result<Reply> dispatch(Ctx& ctx, const Request& req) noexcept {
  if (req.hdr.type >= kTable.size() || !kTable[req.hdr.type].handler)
    return XsErr::kENOSYS;
  const Row& row = kTable[req.hdr.type];
  if ((row.flags & kPrivileged) && !ctx.privileged()) return XsErr::kEACCES;
  ctx.tx = nullptr;
  if (!(row.flags & kNoTx) && req.hdr.tx_id != 0) {
    ctx.tx = ctx.store.find_transaction(ctx.session.conn, TxId{req.hdr.tx_id});
    if (!ctx.tx) return XsErr::kENOENT;
    if (row.flags & kTxChecked) ctx.tx = nullptr;
  }
  try {
    return row.handler(ctx, req);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

}  // namespace cxs::ops
