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

}  // namespace sluice
