#include "producer/enqueue/journal_path.h"

namespace sluice {

std::string EscapeJournalPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string UnescapeJournalPath(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      out += escaped[i];
    } else if (++i < escaped.size()) {
      out += escaped[i] == 'n' ? '\n' : escaped[i];
    }
  }
  return out;
}

std::vector<std::string> JournalLines(const std::string& data) {
  std::vector<std::string> lines;
  size_t at = 0;
  for (size_t nl; (nl = data.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(data.substr(at, nl - at));
  }
  return lines;
}

}  // namespace sluice
