// The hosted target: the process stays as it is when start-up ends (process_seal.hpp).
#include "process_seal.hpp"

namespace sarab::platform::hosted {

bool seal_process(const OpenDevices&) { return false; }

} // namespace sarab::platform::hosted
