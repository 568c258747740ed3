// The subcommands that turn a bucket's uploads into resize jobs, exactly once
// each (docs/producer.md):
//   enqueue  every upload in pending/ not yet enqueued; --watch keeps going
//   upload   copies files into pending/ and enqueues them in one step
#ifndef SLUICE_PRODUCER_ENQUEUE_ENQUEUE_COMMANDS_H_
#define SLUICE_PRODUCER_ENQUEUE_ENQUEUE_COMMANDS_H_

#include "producer/cli/command.h"

namespace sluice {

void AddEnqueueCommands(CommandSet& set);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_ENQUEUE_COMMANDS_H_
