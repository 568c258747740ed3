// How both sent journals (sent_journal.h, s3_sent_journal.h) write an
// upload's path at the end of a one-line entry: '\' as "\\" and a newline as
// "\n", so that any path fits on its line and reads back as it was.
#ifndef SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_
#define SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_

#include <string>
#include <string_view>

namespace sluice {

std::string EscapeJournalPath(std::string_view path);
std::string UnescapeJournalPath(std::string_view escaped);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_JOURNAL_PATH_H_
