// The DNS server's core alone, without sockets: nanoseconds per answer for the benchmark's
// questions, memoised (every question asked before) and not (memo turned off). Built and
// run by bench/dns/run.sh, pinned to one CPU.
//
// usage: answer ZONE_FILE QUERY_FILE
#include <sarab/services/dns/message.hpp>
#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/server.hpp>
#include <sarab/services/dns/zone.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::dns;

namespace {

std::vector<std::vector<u8>> read_queries(const char* path)
{
    std::vector<std::vector<u8>> out;
    std::ifstream in(path);
    std::string name, type;
    u16 id = 1;
    while (in >> name >> type) {
        Message m;
        m.header.id = id++;
        auto qname = Name::parse(name, nullptr);
        Name root;
        if (!qname)
            qname = Name::parse(name, &root);
        m.questions.push_back({ qname.value(), type_from_text(type).value_or(1), 1 });
        Record opt;
        opt.type = u16(RrType::opt);
        opt.klass = 1232;
        m.additional.push_back(opt);
        std::vector<u8> bytes(512);
        bytes.resize(m.emit(bytes).value());
        out.push_back(std::move(bytes));
    }
    return out;
}

double ns_per_answer(Server& server, const std::vector<std::vector<u8>>& queries, int rounds)
{
    std::vector<u8> out(max_message);
    usize total = 0;
    auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
        for (const auto& q : queries)
            total += server.answer(q, Transport::udp, out);
    }
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (total == 0)
        std::puts("no answers?");
    return ns / double(rounds * queries.size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s ZONE_FILE QUERY_FILE\n", argv[0]);
        return 2;
    }
    std::ifstream zone_file(argv[1]);
    std::stringstream text;
    text << zone_file.rdbuf();
    std::string zone_text = text.str();
    auto queries = read_queries(argv[2]);
    for (bool memo : { true, false }) {
        ServerOptions options;
        options.cache_slots = memo ? 4096 : 0;
        Server server(options);
        auto zone = parse_zone(zone_text, argv[1], nullptr);
        if (!zone) {
            std::fprintf(stderr, "the zone does not parse\n");
            return 1;
        }
        server.add_zone(zone.release_value());
        ns_per_answer(server, queries, 10); // warm-up, and fills the memo
        double ns = ns_per_answer(server, queries, 2000);
        std::printf("%s: %.0f ns per answer (%zu questions x 2000)\n", memo ? "memoised" : "not memoised", ns, queries.size());
    }
    return 0;
}
