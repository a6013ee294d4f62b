#include <sarab/services/dns/loader.hpp>

namespace sarab::dns {

ErrorOr<LoadResult, ZoneError> load_zones(const storage::ReadOnlyStore& store, Server& server)
{
    // Parse everything first, so that a bad file leaves the server as it was.
    std::vector<Zone> parsed;
    for (const storage::Entry& entry : store.entries()) {
        std::string_view base = entry.key.substr(entry.key.rfind('/') + 1);
        if (base.starts_with('.'))
            continue; // editors' and version control's files
        auto hint = origin_from_file_name(entry.key);
        std::string_view text(reinterpret_cast<const char*>(entry.data.data()), entry.data.size());
        auto zone = parse_zone(text, entry.key, hint ? &*hint : nullptr);
        if (!zone)
            return failure(zone.error());
        for (const Zone& other : parsed) {
            if (other.origin() == zone->origin()) {
                ZoneError e;
                e.code = ZoneErrc::extra_soa;
                e.file = entry.key;
                e.line = 1;
                InlineFormatBuffer<120> text;
                format_to(text, "zone {} is also in another file", zone->origin());
                e.set_detail(text.view());
                return failure(e);
            }
        }
        parsed.push_back(zone.release_value());
    }
    LoadResult result;
    for (Zone& zone : parsed) {
        ++result.zones;
        result.records += zone.record_count();
        server.add_zone(std::move(zone));
    }
    return result;
}

} // namespace sarab::dns
