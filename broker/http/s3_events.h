// S3 event notifications in: what `POST /s3-events/<queue>` turns a pushed
// event into (HttpSession serves it). Pure functions, tested without sockets.
//
// Ceph RGW and MinIO push their bucket notifications to a webhook; Amazon S3
// sends the same JSON to SQS. Each ObjectCreated record becomes one message,
// {"Records": [<the record as sent>]}, as S3 itself would put it on a queue,
// so the worker reads it as it reads any S3 event (common/s3/event.h). Its
// MessageDeduplicationId is made of the bucket, key, ETag and sequencer, so a
// pusher's retry of the same event enqueues nothing new (deduplication holds
// for five minutes, on standard queues too). A test event and records of
// other kinds enqueue nothing.
//
// The pusher proves itself with a token: `Authorization: Bearer <token>`
// (MinIO's auth_token), or `?token=<token>` in the URL, since RGW cannot add
// headers to its pushes. With a principals file, the token stands for the
// principal named "s3-events", which needs SendMessage on the queue.
#ifndef SLUICE_BROKER_HTTP_S3_EVENTS_H_
#define SLUICE_BROKER_HTTP_S3_EVENTS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sluice.pb.h"

namespace sluice::http {

inline constexpr std::string_view kS3EventsPath = "/s3-events/";
inline constexpr std::string_view kS3EventsPrincipal = "s3-events";

struct S3EventBatches {
  std::vector<pb::SendMessageBatchRequest> batches;  // of up to 10 messages
  size_t enqueue = 0;                                // messages in them
  size_t skipped = 0;                                // records of other kinds
  bool test_event = false;
};

// The batches that enqueue `body`'s ObjectCreated records on `queue`; on a
// FIFO queue (a name ending in ".fifo") each in its bucket's message group.
// An error says why the body is not an S3 event.
Result<S3EventBatches, std::string> S3EventToBatches(std::string_view queue, std::string_view body);

// The queue of a target "/s3-events/<queue>[?...]", percent-decoded; empty
// when there is none.
std::string S3EventsQueue(std::string_view target);

// Whether the request carries `token`: as a bearer token in `authorization`,
// or as the `token` parameter of `target`'s query. Compared in constant time.
bool S3EventsTokenMatches(std::string_view token, std::string_view authorization,
                          std::string_view target);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_S3_EVENTS_H_
