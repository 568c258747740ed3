// What both sent journals (sent_journal.h, s3_sent_journal.h) share: an
// upload's path at the end of a one-line entry, '\' as "\\" and a newline as
// "\n", so that any path fits on its line and reads back as it was; and the
// reading of a journal's lines.
#ifndef SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_
#define SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

std::string EscapeJournalPath(std::string_view path);
std::string UnescapeJournalPath(std::string_view escaped);

// The complete lines of `data`: a torn last line (no newline) is left out.
std::vector<std::string> JournalLines(const std::string& data);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_
