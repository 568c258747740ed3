#include "worker/cores.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace sluice::worker {

int AvailableCores() {
  int cores = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
  // "max 100000" is no quota; "150000 100000" is 1.5 CPUs, which gets 2.
  std::ifstream quota_file("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long period = 0;
  if (quota_file >> quota >> period && quota != "max" && period > 0) {
    const double cpus = std::stod(quota) / static_cast<double>(period);
    cores = std::min(cores, std::max(1, static_cast<int>(std::ceil(cpus))));
  }
  return cores;
}

}  // namespace sluice::worker
