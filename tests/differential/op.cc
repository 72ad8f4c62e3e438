#include "op.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "wire/message_type.h"

namespace cxs::diff {
namespace {

constexpr std::string_view kHostVerbs[] = {"",     "",        "create",
                                           "kill", "destroy", "introduce"};

std::optional<std::uint32_t> type_from_name(std::string_view name) {
  if (name.size() > 1 && name[0] == 'T' &&
      name.find_first_not_of("0123456789", 1) == std::string_view::npos)
    return static_cast<std::uint32_t>(
        std::strtoul(std::string(name.substr(1)).c_str(), nullptr, 10));
  for (std::uint32_t t = 0; t < 32; ++t)
    if (type_name(t) == name) return t;
  // XS_INVALID (0xffff) has a name too, printed as "INVALID".
  constexpr auto kInvalid =
      static_cast<std::uint32_t>(wire::MsgType::XS_INVALID);
  if (type_name(kInvalid) == name) return kInvalid;
  return std::nullopt;
}

std::optional<Actor> actor_from_name(std::string_view name) {
  if (name == "A") return kSockA;
  if (name == "B") return kSockB;
  if (name == "host") return kHost;
  if (name.size() > 1 && name[0] == 'g')
    return std::atoi(std::string(name.substr(1)).c_str());
  return std::nullopt;
}

// Reads a quoted, escaped payload starting at `s` (at the opening quote).
std::optional<std::string> unescape_quoted(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    char c = s[i];
    if (c == '0') {
      out += '\0';
    } else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(
          std::strtoul(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else if (c == 'r') {
      // \r{N}c: c repeated N times (keeps 4 KiB values on one line).
      std::size_t close = s.find('}', i);
      if (close == std::string_view::npos || close + 1 >= s.size())
        return std::nullopt;
      std::size_t n = std::strtoul(
          std::string(s.substr(i + 2, close - i - 2)).c_str(), nullptr, 10);
      out.append(n, s[close + 1]);
      i = close + 1;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string actor_name(Actor a) {
  if (a == kSockA) return "A";
  if (a == kSockB) return "B";
  if (a == kHost) return "host";
  return "g" + std::to_string(a);
}

std::string type_name(std::uint32_t type) {
  std::string_view n = wire::msg_type_name(type);
  if (n.rfind("XS_", 0) == 0) return std::string(n.substr(3));
  return "T" + std::to_string(type);
}

std::string escape(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    std::size_t run = 1;
    while (i + run < bytes.size() && bytes[i + run] == bytes[i]) ++run;
    if (run >= 16 && c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += "\\r{" + std::to_string(run) + "}" + static_cast<char>(c);
      i += run - 1;
    } else if (c == 0) {
      out += "\\0";
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string to_text(const Op& op) {
  if (op.kind == OpKind::kRequest || op.kind == OpKind::kOversize) {
    std::string s = actor_name(op.actor) + " ";
    if (op.kind == OpKind::kOversize) return s + "oversize";
    s += type_name(op.type);
    if (op.tx == kBogusTx) s += " txbogus";
    if (op.tx >= 0) s += " tx" + std::to_string(op.tx);
    return s + " \"" + escape(op.payload) + "\"";
  }
  return "host " + std::string(kHostVerbs[static_cast<int>(op.kind)]) + " " +
         std::to_string(op.domid);
}

std::optional<Op> from_text(std::string_view line) {
  std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto actor = actor_from_name(line.substr(0, sp));
  if (!actor) return std::nullopt;
  std::string_view rest = line.substr(sp + 1);
  Op op;
  op.actor = *actor;
  if (*actor == kHost) {
    std::size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos) return std::nullopt;
    for (int k = 2; k < 6; ++k)
      if (rest.substr(0, sp2) == kHostVerbs[k]) op.kind = OpKind(k);
    if (op.kind == OpKind::kRequest) return std::nullopt;
    op.domid = static_cast<std::uint32_t>(
        std::strtoul(std::string(rest.substr(sp2 + 1)).c_str(), nullptr, 10));
    return op;
  }
  if (rest == "oversize") {
    op.kind = OpKind::kOversize;
    return op;
  }
  sp = rest.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto type = type_from_name(rest.substr(0, sp));
  if (!type) return std::nullopt;
  op.type = *type;
  rest = rest.substr(sp + 1);
  if (rest.rfind("tx", 0) == 0) {
    sp = rest.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    std::string_view t = rest.substr(2, sp - 2);
    op.tx = t == "bogus" ? kBogusTx : std::atoi(std::string(t).c_str());
    rest = rest.substr(sp + 1);
  }
  auto payload = unescape_quoted(rest);
  if (!payload) return std::nullopt;
  op.payload = std::move(*payload);
  return op;
}

std::string to_text(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) out += to_text(op) + "\n";
  return out;
}

std::optional<std::vector<Op>> ops_from_text(std::string_view text) {
  std::vector<Op> ops;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    auto op = from_text(std::string_view(line).substr(b));
    if (!op) return std::nullopt;
    ops.push_back(std::move(*op));
  }
  return ops;
}

}  // namespace cxs::diff
