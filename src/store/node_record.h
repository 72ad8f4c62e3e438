// NodeRecord: how the committed tree keeps one node, in 40 bytes. The record
// holds the node's own name (the last path component) and the id of its
// parent's record instead of its full path, so a path's bytes are not
// repeated in every node below it; the tree's index finds a record by
// hashing the full path and confirms a candidate by walking its parents.
// Name and value share 16 bytes: together up to 14 bytes inline (a name like
// "state" and a value like "4" fit), longer ones in one heap block.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "store/node.h"
#include "store/shared_perms.h"

namespace cxs::store {

class NameValue {
 public:
  NameValue() noexcept = default;
  NameValue(std::string_view name, std::string_view value) {
    assign(name, value);
  }
  NameValue(const NameValue&) = delete;
  NameValue& operator=(const NameValue&) = delete;
  NameValue(NameValue&& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof raw_);
    o.set_empty();
  }
  NameValue& operator=(NameValue&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(raw_, o.raw_, sizeof raw_);
      o.set_empty();
    }
    return *this;
  }
  ~NameValue() { release(); }

  std::string_view name() const noexcept {
    if (!on_heap()) return {raw_, static_cast<unsigned char>(raw_[kNameLen])};
    const Block* b = block();
    return {b->bytes(), b->name_len};
  }
  std::string_view value() const noexcept {
    if (!on_heap())
      return {raw_ + static_cast<unsigned char>(raw_[kNameLen]),
              static_cast<unsigned char>(raw_[kValueLen])};
    const Block* b = block();
    return {b->bytes() + b->name_len, b->value_len};
  }
  // Keeps the name; `value` may not point into this object.
  void set_value(std::string_view value);

 private:
  struct Block {
    std::uint32_t name_len;
    std::uint32_t value_len;
    const char* bytes() const noexcept {
      return reinterpret_cast<const char*>(this + 1);
    }
    char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
  };
  static constexpr std::size_t kInline = 14;
  static constexpr std::size_t kNameLen = 14;
  static constexpr std::size_t kValueLen = 15;
  static constexpr unsigned char kHeapTag = 0xFF;  // in kValueLen

  void assign(std::string_view name, std::string_view value);
  bool on_heap() const noexcept {
    return static_cast<unsigned char>(raw_[kValueLen]) == kHeapTag;
  }
  const Block* block() const noexcept {
    const Block* b;
    std::memcpy(&b, raw_, sizeof b);
    return b;
  }
  void set_empty() noexcept {
    raw_[kNameLen] = 0;
    raw_[kValueLen] = 0;
  }
  void release() noexcept;

  char raw_[16] = {};
};

struct NodeRecord {
  static constexpr std::uint32_t kNoParent = 0xFFFFFFFF;

  std::uint64_t generation = 0;
  ChildNames children;
  SharedPerms perms;
  std::uint32_t parent = kNoParent;  // record id; none for "/" and "@..."
  NameValue name_value;

  std::string_view name() const noexcept { return name_value.name(); }
  std::string_view value() const noexcept { return name_value.value(); }
};
static_assert(sizeof(NodeRecord) == 40, "the tree's memory budget per node");

// A node as a request sees it: either a record of the committed tree or a
// transaction's own copy (a Node). Cheap to copy; valid until that node
// changes.
class NodeView {
 public:
  NodeView() noexcept = default;
  NodeView(std::nullptr_t) noexcept {}                  // NOLINT: absent
  NodeView(const Node* n) noexcept : node_(n) {}        // NOLINT
  NodeView(const Node& n) noexcept : node_(&n) {}       // NOLINT
  NodeView(const NodeRecord* r) noexcept : rec_(r) {}   // NOLINT

  explicit operator bool() const noexcept { return node_ || rec_; }
  friend bool operator==(NodeView v, std::nullptr_t) noexcept { return !v; }
  // So that `view->value()` reads like the pointer it replaces.
  const NodeView* operator->() const noexcept { return this; }

  std::string_view value() const noexcept {
    return node_ ? node_->value.view() : rec_->value();
  }
  const SharedPerms& perms() const noexcept {
    return node_ ? node_->perms : rec_->perms;
  }
  std::uint64_t generation() const noexcept {
    return node_ ? node_->generation : rec_->generation;
  }
  const ChildNames& children() const noexcept {
    return node_ ? node_->children : rec_->children;
  }
  std::size_t children_bytes() const noexcept { return children().bytes(); }

  // A copy to change (a transaction's first access).
  Node to_node() const {
    return Node{SmallBytes(value()), perms(), generation(), children()};
  }

 private:
  const Node* node_ = nullptr;
  const NodeRecord* rec_ = nullptr;
};

}  // namespace cxs::store
