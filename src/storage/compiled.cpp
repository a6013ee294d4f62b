// The loader for stores compiled into the image. Entries point straight at the embedded
// bytes; only the content hashes are computed, once, when the store is opened.
#include <sarab/base/log.hpp>
#include <sarab/storage/compiled.hpp>
#include <sarab/storage/store.hpp>

#include <vector>

namespace sarab::storage {

namespace {

log::Source g_log { "store" };
constinit CompiledStore* g_compiled = nullptr;

class EmbeddedContents final : public StoreContents {
public:
    explicit EmbeddedContents(const CompiledStore& store)
    {
        m_entries.reserve(store.count);
        for (usize i = 0; i < store.count; ++i) {
            const CompiledEntry& e = store.entries[i];
            std::span<const std::byte> data(e.data, e.size);
            m_entries.push_back(Entry { e.key, data, content_hash(data), e.modified_ns });
        }
    }
    std::span<const Entry> entries() const override { return m_entries; }

private:
    std::vector<Entry> m_entries;
};

std::unique_ptr<StoreContents> load_compiled(std::string_view name, FormatBuffer&)
{
    for (CompiledStore* s = g_compiled; s; s = s->next) {
        if (name == s->name) {
            log::debug(g_log, "store '{}': {} entries compiled in", name, s->count);
            return std::make_unique<EmbeddedContents>(*s);
        }
    }
    return nullptr;
}

} // namespace

void register_compiled_store(CompiledStore& store)
{
    if (!g_compiled) // the first compiled store brings the loader; stores bound at boot win
        detail::register_loader(&load_compiled, 1);
    store.next = g_compiled;
    g_compiled = &store;
}

} // namespace sarab::storage
