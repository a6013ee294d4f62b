#include <sarab/net/dhcp.hpp>
#include <sarab/net/stack.hpp>

namespace sarab::net {

log::Source stack_log { "stack" };
log::Source dhcp_log { "dhcp" };

} // namespace sarab::net
