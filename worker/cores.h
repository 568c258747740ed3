// How many cores this process may use: its CPU affinity, lowered by a cgroup
// v2 CPU quota (what a Kubernetes CPU limit becomes). At least 1.
#ifndef SLUICE_WORKER_CORES_H_
#define SLUICE_WORKER_CORES_H_

namespace sluice::worker {

int AvailableCores();

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_CORES_H_
