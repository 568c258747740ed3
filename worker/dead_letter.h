// Dead-lettering by the worker: a job that can never succeed (an invalid
// message, a missing object, a hostile or corrupt image) is moved to the
// queue's dead-letter queue at once, instead of failing maxReceiveCount times
// first. The copy keeps the body and message attributes and gains
// SluiceFailureReason (e.g. "corrupt_image") and SluiceFailureDetail; then
// the original is deleted.
#ifndef SLUICE_WORKER_DEAD_LETTER_H_
#define SLUICE_WORKER_DEAD_LETTER_H_

#include <string>

#include "client/client.h"
#include "common/status.h"
#include "worker/job_error.h"

namespace sluice::worker {

// The name of `queue`'s dead-letter queue from its RedrivePolicy, or "" when
// it has none.
Result<std::string> FindDeadLetterQueue(Client& client, const std::string& queue);

// Sends the copy to `dead_letter_queue`. A FIFO copy keeps the message group
// and is deduplicated by the original's message id, so a retried move does
// not make two copies.
Status SendToDeadLetterQueue(Client& client, const std::string& dead_letter_queue,
                             const pb::Message& message, const JobError& error);

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_DEAD_LETTER_H_
