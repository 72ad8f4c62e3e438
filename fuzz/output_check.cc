#include "output_check.h"

#include "cxenstored/errors.h"
#include "cxenstored/limits.h"
#include "wire/message_type.h"

namespace cxs::fuzz {

namespace {
constexpr auto kError = static_cast<std::uint32_t>(wire::MsgType::XS_ERROR);
constexpr auto kEvent =
    static_cast<std::uint32_t>(wire::MsgType::XS_WATCH_EVENT);
}  // namespace

std::size_t OutputCheck::expect(Kind kind, const wire::Header& hdr,
                                std::string_view payload) {
  std::string frame(kHeaderSize, '\0');
  wire::encode_header(hdr, frame.data());
  frame += payload;
  expected_bytes_ += frame;
  std::size_t size = frame.size();
  expect_.push_back(Expect{kind, std::move(frame)});
  return size;
}

std::size_t OutputCheck::expect_reply(const wire::Header& request,
                                      const Result<ops::Reply>& result) {
  std::string_view payload = result ? result->payload() : std::string_view();
  std::optional<XsErr> err;
  if (!result) err = result.error();
  if (result && payload.size() > kPayloadMax) err = XsErr::kE2BIG;
  if (err) {
    std::string name(xs_error_name(*err));
    name += '\0';
    return expect(Kind::kError,
                  wire::Header{kError, request.req_id, request.tx_id,
                               static_cast<std::uint32_t>(name.size())},
                  name);
  }
  return expect(Kind::kReply,
                wire::Header{request.type, request.req_id, request.tx_id,
                             static_cast<std::uint32_t>(payload.size())},
                payload);
}

void OutputCheck::expect_event(std::string_view path, std::string_view token) {
  std::string payload(path);
  payload += '\0';
  payload += token;
  payload += '\0';
  expect(Kind::kEvent,
         wire::Header{kEvent, 0, 0, static_cast<std::uint32_t>(payload.size())},
         payload);
}

void OutputCheck::received(const char* data, std::size_t n) {
  partial_.append(data, n);
  std::size_t pos = 0;
  while (partial_.size() - pos >= kHeaderSize) {
    wire::Header h = wire::decode_header(partial_.data() + pos);
    if (h.len > kPayloadMax)
      fuzz_failure(name_, "a frame of " + std::to_string(h.len) +
                              " payload bytes, over 4096");
    if (partial_.size() - pos < kHeaderSize + h.len) break;
    check_frame(std::string_view(partial_).substr(pos, kHeaderSize + h.len));
    pos += kHeaderSize + h.len;
  }
  partial_.erase(0, pos);
  // What was received is forgotten once it is a good part of the total.
  if (received_ > 65536 && received_ * 2 > expected_bytes_.size()) {
    expected_bytes_.erase(0, received_);
    received_ = 0;
  }
}

void OutputCheck::check_frame(std::string_view frame) {
  wire::Header h = wire::decode_header(frame.data());
  std::string_view payload = frame.substr(kHeaderSize);
  if (expect_.empty())
    fuzz_failure(name_, "a frame nobody queued (type " +
                            std::to_string(h.type) + ", req_id " +
                            std::to_string(h.req_id) + ")");
  const Expect& e = expect_.front();
  wire::Header want = wire::decode_header(e.frame.data());
  if (e.kind == Kind::kEvent) {
    if (h.type != kEvent || h.req_id != 0 || h.tx_id != 0)
      fuzz_failure(name_, "a watch event expected, type " +
                              std::to_string(h.type) + " req_id " +
                              std::to_string(h.req_id) + " came");
    if (payload.empty() || payload.back() != '\0' ||
        payload.find('\0') == payload.size() - 1 ||
        payload.find('\0', payload.find('\0') + 1) != payload.size() - 1)
      fuzz_failure(name_, "a watch event not \"path\\0token\\0\"");
    ++events_;
  } else {
    if (h.req_id != want.req_id || h.tx_id != want.tx_id)
      fuzz_failure(name_, "reply ids " + std::to_string(h.req_id) + "/" +
                              std::to_string(h.tx_id) + ", request's " +
                              std::to_string(want.req_id) + "/" +
                              std::to_string(want.tx_id));
    if (e.kind == Kind::kError) {
      if (h.type != kError || payload.empty() || payload.back() != '\0' ||
          !xs_error_from_name(payload.substr(0, payload.size() - 1)))
        fuzz_failure(name_, "an XS_ERROR with a known E-name expected");
      ++errors_;
    } else if (h.type != want.type) {
      fuzz_failure(name_, "reply of type " + std::to_string(h.type) +
                              " to a request of type " +
                              std::to_string(want.type));
    }
  }
  if (frame != e.frame)
    fuzz_failure(name_, "frame " + std::to_string(frames_) +
                            " differs from the one queued");
  received_ += frame.size();
  expect_.pop_front();
  ++frames_;
}

void OutputCheck::check_pending(std::string_view pending,
                                std::size_t in_flight) const {
  std::size_t from = received_ + partial_.size() + in_flight;
  if (from > expected_bytes_.size())
    fuzz_failure(name_, "more bytes went out than were queued");
  if (pending != std::string_view(expected_bytes_).substr(from))
    fuzz_failure(name_, "the connection's pending output (" +
                            std::to_string(pending.size()) +
                            " bytes) is not what was queued and not sent (" +
                            std::to_string(expected_bytes_.size() - from) +
                            " bytes)");
}

std::string_view OutputCheck::frame_being_sent(std::size_t in_flight) const {
  std::size_t written = partial_.size() + in_flight;  // past received_
  std::size_t start = 0;
  for (const Expect& e : expect_) {
    if (start >= written) break;
    if (written < start + e.frame.size()) return e.frame;
    start += e.frame.size();
  }
  return {};
}

void OutputCheck::check_all_received() const {
  if (!expect_.empty() || !partial_.empty())
    fuzz_failure(
        name_, std::to_string(expect_.size()) + " queued frames never arrived");
}

void OutputCheck::reset() {
  expect_.clear();
  expected_bytes_.clear();
  received_ = 0;
  partial_.clear();
}

}  // namespace cxs::fuzz
