// What only the hosted (and sandbox) platform offers, for code that exists only there: the
// socket stack, which waits on host file descriptors through the same yield as devices.
#pragma once

#include <sarab/platform/platform.hpp>

namespace sarab::platform::hosted {

// Sets the platform up from main's arguments (main() does this; so do tests that link the
// hosted platform with a main of their own).
void init(int argc, char** argv);

// Makes `fd` a handle that yield reports ready when `fd` is readable (POLLIN) or, with
// `writable`, writable. The caller keeps owning the descriptor.
ErrorOr<Handle, Errc> watch_fd(int fd, bool writable = false);
void unwatch_fd(Handle);

// What the declared device `name` was bound to with --dev=NAME=SPEC ("tap:IF", "file:PATH",
// "dir:PATH"), or empty. For hosted-only code that binds things the seam does not know, such
// as a store read from a directory.
std::string_view binding_of(std::string_view name);

} // namespace sarab::platform::hosted
