#include <sarab/net/stack.hpp>

namespace sarab::net {

log::Source stack_log { "stack" };

} // namespace sarab::net
