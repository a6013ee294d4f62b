// Stores compiled into an image: what `sarab build --kv NAME=DIR` (or STORES in
// sarab_add_unikernel) generates a source file for. The generated file embeds every file of
// DIR with .incbin, lists them here sorted by key, and registers the list under NAME when the
// image starts; opening the ReadOnlyStore NAME then finds it without reading anything. Only
// generated code includes this header.
#pragma once

#include <sarab/base/types.hpp>

#include <cstddef>
#include <string_view>

namespace sarab::storage {

struct CompiledEntry {
    const char* key;
    const std::byte* data;
    usize size;
    i64 modified_ns;
};

struct CompiledStore {
    const char* name;
    const CompiledEntry* entries; // sorted by key
    usize count;
    CompiledStore* next = nullptr;
};

// Called by the generated file's static initialiser. `store` must live for the whole image.
void register_compiled_store(CompiledStore& store);

} // namespace sarab::storage
