// What seal() does to the process itself, beyond refusing new devices: the one difference
// between the hosted and the sandbox targets.
//
//   hosted (unsealed.cpp)  nothing: a development process, debugged with the usual tools.
//   sandbox (sandbox.cpp)  a seccomp filter that allows only the system calls of the devices
//                          open at that moment, and of the console, clocks, memory and exit.
//                          Any other call stops the image with a report naming it.
#pragma once

#include <sarab/base/types.hpp>

#include <span>
#include <string_view>

namespace sarab::platform::hosted {

// The devices open when start-up ends, by what they need of the kernel.
struct OpenDevices {
    std::span<const int> taps;  // readv and writev on each
    std::span<const int> files; // pread, pwrite and fdatasync on each
    bool sockets = false;       // a net device on the socket stack: IPv4 sockets, epoll
};

// True when the process is now sealed (sandbox). A failure to seal ends the image: a
// sandbox image never runs unsealed.
bool seal_process(const OpenDevices& devices);

// Writes to standard error, where reports of the image's end go (hosted.cpp).
void put_error(std::string_view text);

} // namespace sarab::platform::hosted
