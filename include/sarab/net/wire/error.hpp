// Wire formats: the bytes of Ethernet, ARP, IPv4, ICMPv4, UDP, TCP and DHCP.
//
// The contract of every header in this folder: for each protocol there is a view (XView)
// and a value (XRepr). A view is a non-owning window on bytes that came from outside; its
// only constructor is `XView::parse`, which checks every length field against the bytes
// once, so that no accessor of a view that exists can read out of bounds. A repr is a plain
// value: `XRepr::parse(view)` checks what the protocol means (versions, header lengths,
// checksums, option lengths) and `emit` writes exactly `buffer_len()` bytes into a span the
// caller supplies, computing checksums on the way. Parsing never allocates and never
// panics on any input; a failure is a WireError. Emitting a repr that could not have been
// parsed (an option too long to encode, a span too short) is a bug and panics. Nothing here
// keeps state, reads a clock or knows about sockets: the protocol layers do that.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/types.hpp>

namespace sarab::net::wire {

enum class WireError : u8 {
    truncated,         // fewer bytes than the headers or a length field say there are
    bad_version,       // an IP version other than 4
    bad_header_length, // a header length field below the protocol's minimum
    bad_length,        // a length field that contradicts another (UDP length < 8, ...)
    bad_checksum,
    bad_option,   // an option whose length is impossible for its kind, or runs past the end
    bad_magic,    // the DHCP magic cookie is missing
    malformed,    // a field value the protocol forbids (a fragment beyond 64 KiB, ...)
    unsupported,  // well formed but not handled here (802.3 frames, non-Ethernet ARP, ...)
};

constexpr const char* error_name(WireError e)
{
    switch (e) {
    case WireError::truncated: return "truncated";
    case WireError::bad_version: return "bad version";
    case WireError::bad_header_length: return "bad header length";
    case WireError::bad_length: return "bad length";
    case WireError::bad_checksum: return "bad checksum";
    case WireError::bad_option: return "bad option";
    case WireError::bad_magic: return "bad magic cookie";
    case WireError::malformed: return "malformed";
    case WireError::unsupported: return "unsupported";
    }
    return "unknown wire error";
}

template<class T>
using WireResult = ErrorOr<T, WireError>;

} // namespace sarab::net::wire
