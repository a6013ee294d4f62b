// Zone files: parse any text as a zone. A zone that parses is written out again in master
// format (format_rdata for each record) and must parse to the same records; then a server
// loads it and answers a question for each of its first names.
#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/server.hpp>
#include <sarab/services/dns/zone.hpp>

#include "fuzz_support.hpp"

#include <string>

using namespace sarab;
using namespace sarab::dns;

namespace {

std::string text_of(const Zone& z)
{
    std::string out;
    InlineFormatBuffer<70000> line;
    for (const Node& node : z.nodes()) {
        auto owner = Name::from_wire(z.owner(node));
        VERIFY(owner, "zone owners are names");
        for (const RecordSet& set : z.sets(node)) {
            for (u32 i = 0; i < set.count; ++i) {
                line.clear();
                format_to(line, "{} {} IN ", *owner, set.ttl);
                format_type(line, set.type);
                line.append(' ');
                format_rdata(line, set.type, z.rdata(set, i));
                VERIFY(!line.truncated());
                out.append(line.view());
                out.push_back('\n');
            }
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Name origin = Name::parse("example.org.").value();
    auto zone = parse_zone(text, "fuzz.zone", &origin);
    if (!zone)
        return 0;
    // The SOA first, as the parser requires.
    std::string again_text;
    {
        // Three names of up to 255 bytes, each byte written as up to four characters.
        InlineFormatBuffer<3 * 4 * 255 + 100> soa;
        format_to(soa, "{} {} IN SOA ", zone->origin(), zone->soa().ttl);
        format_rdata(soa, u16(RrType::soa), zone->rdata(zone->soa(), 0));
        VERIFY(!soa.truncated());
        again_text = std::string(soa.view()) + "\n" + text_of(*zone);
    }
    auto again = parse_zone(again_text, "again.zone", nullptr);
    VERIFY(again, "a zone written out again does not parse");
    VERIFY(again->record_count() == zone->record_count(), "record counts differ after a round trip");
    VERIFY(text_of(*again) == text_of(*zone), "records differ after a round trip");

    std::vector<std::vector<u8>> queries;
    for (const Node& node : zone->nodes()) {
        if (queries.size() == 32)
            break;
        Message q;
        q.header.id = 7;
        q.questions.push_back({ Name::from_wire(zone->owner(node)).value(), u16(RrType::a), 1 });
        std::vector<u8> query(512);
        auto n = q.emit(query);
        VERIFY(n, "a question fits in 512 bytes");
        query.resize(*n);
        queries.push_back(std::move(query));
    }
    Server server;
    server.add_zone(zone.release_value());
    std::vector<u8> out(max_message);
    for (const auto& query : queries) {
        usize m = server.answer(query, Transport::udp, out);
        VERIFY(m > 0 && Message::parse({ out.data(), m }), "an answer does not parse");
    }
    return 0;
}
