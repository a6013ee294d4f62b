// DNS messages: parse any bytes as a message; what parses must emit and parse back to the
// same message. Then hand the bytes to a server, as a UDP and as a TCP query: whatever it
// sends back must parse, carry the query's ID and keep to the size limit.
#include <sarab/services/dns/message.hpp>
#include <sarab/services/dns/server.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::dns;

namespace {

constexpr std::string_view zone_text = R"($ORIGIN example.org.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 1800 1209600 300
  NS ns1
  NS ns.example.net.
  MX 10 mail
ns1 A 198.18.0.53
mail A 198.18.0.25
www A 198.18.0.80
 AAAA 2001:db8::80
alias CNAME www
loop CNAME loop
*.wild TXT "wildcard"
a.b.ent A 198.18.2.1
child NS ns.child
ns.child A 198.18.3.1
_sip._tcp SRV 0 0 5060 mail
)";

Server& server()
{
    static Server* s = [] {
        auto* srv = new Server();
        auto zone = parse_zone(zone_text, "fuzz.zone", nullptr);
        VERIFY(zone, "the fuzz zone parses");
        srv->add_zone(zone.release_value());
        return srv;
    }();
    return *s;
}

void check_response(std::span<const u8> query, std::span<const u8> response, usize limit)
{
    if (response.empty())
        return;
    VERIFY(response.size() <= limit, "response larger than allowed");
    auto m = Message::parse(response);
    VERIFY(m, "the server's response does not parse");
    VERIFY(m->header.id == load_u16(query.data()), "response ID differs from the query's");
    VERIFY(m->header.has(flag::qr), "response without QR");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::span<const u8> bytes(data, size);
    auto parsed = Message::parse(bytes);
    if (parsed) {
        std::vector<u8> out(max_message);
        auto n = parsed->emit(out);
        if (n) {
            auto again = Message::parse({ out.data(), *n });
            VERIFY(again, "an emitted message does not parse");
            VERIFY(again->questions.size() == parsed->questions.size());
            VERIFY(again->answers == parsed->answers, "answers differ after a round trip");
            VERIFY(again->authority == parsed->authority, "authority differs after a round trip");
            VERIFY(again->additional == parsed->additional, "additional differs after a round trip");
        }
    }
    std::vector<u8> response(max_message);
    usize n = server().answer(bytes, Transport::udp, response);
    check_response(bytes, { response.data(), n }, server().options().edns_udp_size);
    // Twice: the second answer may come from the memo, and must be as good.
    n = server().answer(bytes, Transport::udp, response);
    check_response(bytes, { response.data(), n }, server().options().edns_udp_size);
    Transfer transfer;
    n = server().answer(bytes, Transport::tcp, response, &transfer);
    check_response(bytes, { response.data(), n }, max_message);
    for (int messages = 0; transfer.active() && messages < 8; ++messages) {
        n = transfer.next(response);
        if (n == 0)
            break;
        VERIFY(Message::parse({ response.data(), n }), "a transfer message does not parse");
    }
    return 0;
}
