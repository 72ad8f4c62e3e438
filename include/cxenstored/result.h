// Result<T>: a value or an XsErr refusal. GCC 12 has no std::expected; this is
// the small subset the daemon needs. Result<void> is spelled Status.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "cxenstored/errors.h"

namespace cxs {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(XsErr err) : v_(std::in_place_index<1>, err) {}             // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  XsErr error() const noexcept {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, XsErr> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(XsErr err) : err_(err), failed_(true) {}  // NOLINT
  static Status Ok() { return {}; }

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  XsErr error() const noexcept {
    assert(failed_);
    return err_;
  }

 private:
  XsErr err_ = XsErr::kEINVAL;
  bool failed_ = false;
};

}  // namespace cxs

// Propagate a refusal: CXS_TRY(status_expr); for Status-returning calls.
#define CXS_TRY(expr)                       \
  do {                                      \
    auto cxs_try_status_ = (expr);          \
    if (!cxs_try_status_.ok())              \
      return cxs_try_status_.error();       \
  } while (0)
