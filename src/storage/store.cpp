#include <sarab/storage/store.hpp>

#include <algorithm>

namespace sarab::storage {

namespace {
constexpr usize max_loaders = 4;
struct Loader {
    detail::ContentsLoader load;
    int priority;
};
constinit Loader g_loaders[max_loaders] = {};
constinit usize g_loader_count = 0;
} // namespace

void detail::register_loader(ContentsLoader loader, int priority)
{
    VERIFY(g_loader_count < max_loaders);
    usize at = g_loader_count++;
    while (at > 0 && g_loaders[at - 1].priority > priority) {
        g_loaders[at] = g_loaders[at - 1];
        --at;
    }
    g_loaders[at] = { loader, priority };
}

u64 content_hash(std::span<const std::byte> data)
{
    u64 hash = 14695981039346656037ull;
    for (std::byte b : data)
        hash = (hash ^ u8(b)) * 1099511628211ull;
    return hash;
}

bool is_valid_key(std::string_view key)
{
    if (key.empty() || key.front() == '/' || key.back() == '/')
        return false;
    while (!key.empty()) {
        usize slash = key.find('/');
        std::string_view part = key.substr(0, slash);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos)
            return false;
        key = slash == std::string_view::npos ? std::string_view {} : key.substr(slash + 1);
    }
    return true;
}

ErrorOr<void, OpenError> ReadOnlyStore::open_declared(FormatBuffer& error)
{
    if (m_contents)
        return {}; // given by set_contents
    for (usize i = 0; i < g_loader_count; ++i) {
        auto contents = g_loaders[i].load(name(), error);
        if (contents) {
            m_contents = std::move(contents);
            m_open = true;
            return {};
        }
        if (error.size() > 0)
            return failure(OpenError::unavailable);
    }
    format_to(error, "no contents: compile a directory in with `sarab build --kv {}=DIR`, or on hosted pass --dev={}=dir:DIR", name(), name());
    return failure(OpenError::not_bound);
}

void ReadOnlyStore::set_contents(std::unique_ptr<StoreContents> contents)
{
    m_contents = std::move(contents);
    m_open = m_contents != nullptr;
}

std::span<const Entry> ReadOnlyStore::entries() const
{
    return m_contents ? m_contents->entries() : std::span<const Entry> {};
}

const Entry* ReadOnlyStore::find(std::string_view key) const
{
    auto all = entries();
    auto it = std::lower_bound(all.begin(), all.end(), key, [](const Entry& e, std::string_view k) { return e.key < k; });
    if (it == all.end() || it->key != key)
        return nullptr;
    return &*it;
}

std::span<const Entry> ReadOnlyStore::with_prefix(std::string_view prefix) const
{
    auto all = entries();
    auto first = std::lower_bound(all.begin(), all.end(), prefix, [](const Entry& e, std::string_view k) { return e.key < k; });
    auto last = first;
    while (last != all.end() && last->key.substr(0, prefix.size()) == prefix)
        ++last;
    return all.subspan(usize(first - all.begin()), usize(last - first));
}

u64 ReadOnlyStore::total_bytes() const
{
    u64 total = 0;
    for (const Entry& e : entries())
        total += e.data.size();
    return total;
}

void OwnedContents::add(std::string key, std::vector<std::byte> data, i64 modified_ns)
{
    m_items.push_back(std::make_unique<Item>(Item { std::move(key), std::move(data), modified_ns }));
}

bool OwnedContents::finish()
{
    m_entries.clear();
    m_entries.reserve(m_items.size());
    for (auto& item : m_items)
        m_entries.push_back(Entry { item->key, item->data, content_hash(item->data), item->modified_ns });
    std::sort(m_entries.begin(), m_entries.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
    for (usize i = 1; i < m_entries.size(); ++i) {
        if (m_entries[i].key == m_entries[i - 1].key)
            return false;
    }
    return true;
}

} // namespace sarab::storage
