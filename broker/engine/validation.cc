#include "broker/engine/validation.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "broker/engine/limits.h"
#include "common/digest.h"

namespace sluice {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Decodes one UTF-8 code point starting at s[*i]; returns -1 when invalid.
int32_t DecodeUtf8(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = 0;
  int32_t cp = 0;
  if (b0 < 0x80) {
    len = 1;
    cp = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (*i + len > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong encodings are invalid UTF-8.
  static constexpr int32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len]) return -1;
  *i += len;
  return cp;
}

bool IsAllowedBodyCodePoint(int32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Status ValidateAttributeName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxMessageAttributeNameLength) {
    return {StatusCode::kInvalidParameterValue, limits::MessageAttributeNameLengthDetail()};
  }
  for (char c : name) {
    if (!IsNameChar(c) && c != '.') {
      return {StatusCode::kInvalidParameterValue,
              "message attribute name '" + std::string(name) +
                  "' may hold only A-Z, a-z, 0-9, '_', '-' and '.'"};
    }
  }
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return {StatusCode::kInvalidParameterValue, "message attribute name '" + std::string(name) +
                                                    "' may not start or end with '.' or hold '..'"};
  }
  if (StartsWith(name, "AWS.") || StartsWith(name, "Amazon.")) {
    return {StatusCode::kInvalidParameterValue,
            "message attribute name '" + std::string(name) + "' uses a reserved prefix"};
  }
  return Status::Ok();
}

bool IsNumber(std::string_view v) {
  // SQS numbers: optional sign, digits, optional fraction and exponent.
  // strtod also skips leading white space, which SQS does not accept.
  std::string copy(v);
  char* end = nullptr;
  std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size() &&
         copy.find_first_of("nNiIxX \t\n\v\f\r") == std::string::npos;
}

}  // namespace

bool IsFifoQueueName(std::string_view name) {
  return name.size() > 5 && name.substr(name.size() - 5) == ".fifo";
}

Status ValidateQueueName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxQueueNameLength) {
    return {StatusCode::kInvalidParameterValue, limits::QueueNameLengthDetail()};
  }
  std::string_view stem = IsFifoQueueName(name) ? name.substr(0, name.size() - 5) : name;
  if (stem.empty() || !std::all_of(stem.begin(), stem.end(), IsNameChar)) {
    return {StatusCode::kInvalidParameterValue,
            "queue name '" + std::string(name) +
                "' may hold only A-Z, a-z, 0-9, '-' and '_' (and end in .fifo for FIFO queues)"};
  }
  return Status::Ok();
}

Status ValidateBatchSize(int size) {
  if (size == 0) return {StatusCode::kEmptyBatchRequest, "the batch holds no entries"};
  if (size > limits::kMaxBatchEntries) {
    return {StatusCode::kTooManyEntriesInBatchRequest, limits::BatchEntriesDetail(size)};
  }
  return Status::Ok();
}

Status ValidateBatchEntryId(std::string_view id) {
  if (id.empty() || id.size() > limits::kMaxBatchEntryIdLength ||
      !std::all_of(id.begin(), id.end(), IsNameChar)) {
    return {StatusCode::kInvalidBatchEntryId, limits::BatchEntryIdDetail(id)};
  }
  return Status::Ok();
}

Status ValidateDistinctIds(const std::vector<std::string_view>& ids) {
  std::set<std::string_view> seen;
  for (auto id : ids) {
    if (!seen.insert(id).second) {
      return {StatusCode::kBatchEntryIdsNotDistinct,
              "batch entry id '" + std::string(id) + "' appears twice"};
    }
  }
  return Status::Ok();
}

Status ValidateBody(std::string_view body) {
  if (body.empty()) return {StatusCode::kMissingParameter, "the message body is empty"};
  size_t i = 0;
  while (i < body.size()) {
    // Printable ASCII, by far the common case, needs no decoding: eight bytes
    // at a time while none has its top bit set or is below 0x20.
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighBits = 0x8080808080808080ULL;
    uint64_t word;
    if (i + 8 <= body.size() && (std::memcpy(&word, body.data() + i, 8),
                                 ((word | ((word - kOnes * 0x20) & ~word)) & kHighBits) == 0)) {
      i += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(body[i]);
    if (c >= 0x20 && c < 0x80) {
      ++i;
      continue;
    }
    const size_t at = i;
    const int32_t cp = DecodeUtf8(body, &i);
    if (cp < 0 || !IsAllowedBodyCodePoint(cp)) {
      return {
          StatusCode::kInvalidMessageContents,
          "the message body holds a character SQS does not allow at byte " + std::to_string(at)};
    }
  }
  return Status::Ok();
}

Status ValidateMessageAttributes(const MessageAttributes& attributes) {
  if (attributes.size() > static_cast<size_t>(limits::kMaxMessageAttributes)) {
    return {StatusCode::kInvalidParameterValue, limits::MessageAttributesDetail()};
  }
  for (const auto& [name, value] : attributes) {
    if (Status s = ValidateAttributeName(name); !s.ok()) return s;
    const std::string& type = value.data_type();
    const std::string base = type.substr(0, type.find('.'));
    if (type.size() > limits::kMaxMessageAttributeTypeLength ||
        (base != "String" && base != "Number" && base != "Binary")) {
      return {StatusCode::kInvalidParameterValue, "message attribute '" + name + "' has type '" +
                                                      type +
                                                      "'; types are String, Number or Binary"};
    }
    if (base == "Binary") {
      if (value.binary_value().empty() || !value.string_value().empty()) {
        return {StatusCode::kInvalidParameterValue,
                "message attribute '" + name + "' of type Binary needs a binary value only"};
      }
    } else {
      if (value.string_value().empty() || !value.binary_value().empty()) {
        return {StatusCode::kInvalidParameterValue,
                "message attribute '" + name + "' of type " + base + " needs a string value only"};
      }
      if (Status s = ValidateBody(value.string_value()); !s.ok()) {
        return {StatusCode::kInvalidParameterValue,
                "message attribute '" + name + "' holds a character SQS does not allow"};
      }
      if (base == "Number" && !IsNumber(value.string_value())) {
        return {
            StatusCode::kInvalidParameterValue,
            "message attribute '" + name + "' of type Number holds '" + value.string_value() + "'"};
      }
    }
  }
  return Status::Ok();
}

int64_t MessageSize(std::string_view body, const MessageAttributes& attributes) {
  int64_t size = static_cast<int64_t>(body.size());
  for (const auto& [name, value] : attributes) {
    size += name.size() + value.data_type().size() + value.string_value().size() +
            value.binary_value().size();
  }
  return size;
}

std::string MessageAttributesMd5(const MessageAttributes& attributes) {
  if (attributes.empty()) return "";
  std::vector<const std::string*> names;
  for (const auto& [name, value] : attributes) names.push_back(&name);
  std::sort(names.begin(), names.end(), [](auto* a, auto* b) { return *a < *b; });
  std::string buf;
  auto put = [&buf](std::string_view bytes) {
    const uint32_t n = bytes.size();
    const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                         static_cast<char>(n >> 8), static_cast<char>(n)};
    buf.append(len, 4);
    buf.append(bytes);
  };
  for (const std::string* name : names) {
    const pb::MessageAttributeValue& v = attributes.at(*name);
    put(*name);
    put(v.data_type());
    if (StartsWith(v.data_type(), "Binary")) {
      buf.push_back(2);
      put(v.binary_value());
    } else {
      buf.push_back(1);
      put(v.string_value());
    }
  }
  return Md5Hex(buf);
}

Status ValidateFifoId(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > limits::kMaxFifoIdLength) {
    return {StatusCode::kInvalidParameterValue, limits::FifoIdLengthDetail(what)};
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7E) {
      return {StatusCode::kInvalidParameterValue,
              std::string(what) + " may hold only printable ASCII characters"};
    }
  }
  return Status::Ok();
}

}  // namespace sluice
