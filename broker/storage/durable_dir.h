// MakeDurableDirectory: creates a directory and any missing parents so that
// a crash of the machine cannot take their names away: each directory made
// is synced into its parent. The broker's data directory and its log
// directory hold acknowledged state, which a lost name would lose with them.
#ifndef SLUICE_BROKER_STORAGE_DURABLE_DIR_H_
#define SLUICE_BROKER_STORAGE_DURABLE_DIR_H_

#include <string>

#include "common/status.h"

namespace sluice {

// OK when `path` exists already or was made; else what failed.
Status MakeDurableDirectory(const std::string& path);

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_DURABLE_DIR_H_
