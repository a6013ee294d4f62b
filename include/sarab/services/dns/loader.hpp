// DNS service: loading every zone of a read-only store into a server.
//
// One zone per entry: the origin is the owner of the file's SOA, and a file named
// "example.org.zone" (or "example.org") starts with that origin, so it needs no $ORIGIN.
// Entries whose name starts with '.' are skipped. Loading is all or nothing: on the first
// error (a zone that does not parse, or two files for one zone) the server is left without
// any of the store's zones and the error names the file and line.
#pragma once

#include <sarab/services/dns/server.hpp>
#include <sarab/storage/store.hpp>

namespace sarab::dns {

struct LoadResult {
    usize zones = 0;
    usize records = 0;
};

ErrorOr<LoadResult, ZoneError> load_zones(const storage::ReadOnlyStore&, Server&);

} // namespace sarab::dns
