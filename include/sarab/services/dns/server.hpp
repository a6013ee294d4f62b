// DNS service: the authoritative server's core, independent of sockets.
//
// Server::answer turns the bytes of one query into the bytes of its response, following RFC
// 1034 4.3.2 with RFC 2308 (negative answers carry the SOA, with TTL the lesser of the SOA's
// TTL and its MINIMUM), RFC 4592 (wildcards from the closest encloser; empty non-terminals
// exist), RFC 6891 (EDNS(0): the client's UDP size, capped by ours) and RFC 2181 9 (TC only
// when a needed RRset does not fit) and RFC 8482 (one RRset answers ANY). Outside every served
// zone it answers REFUSED.
//
// Like the MirageOS server it memoises: the finished response for (lower-case name, type,
// class, size limit, EDNS and DO) is kept in a bounded, direct-mapped table, and a repeated
// question costs one hash, one copy and three patches: the ID, the RD and CD bits, and the
// question name's case (clients use 0x20 mixed case, and names compressed against the
// question then read back in the client's case). Changing the zones empties the table.
// The table is allocated up front; answering allocates nothing.
//
// The caller owns transport: UDP datagrams, or TCP messages with their two-byte length
// (RFC 7766). An AXFR over TCP gives a Transfer, whose messages the caller sends in turn.
#pragma once

#include <sarab/services/dns/message.hpp>
#include <sarab/services/dns/zone.hpp>

#include <memory>
#include <unordered_map>
#include <vector>

namespace sarab::dns {

enum class Transport : u8 { udp, tcp };

struct ServerOptions {
    // Leave out what a resolver does not need: the zone's NS in the authority section of
    // positive answers, and additional addresses other than referral glue.
    bool minimal_responses = false;
    // The EDNS UDP size this server offers and the most it sends over UDP (RFC 9715's 1232
    // keeps answers clear of IP fragmentation).
    u16 edns_udp_size = 1232;
    // Memoised answers: table slots (rounded up to a power of two; 0 turns memoising off)
    // and the largest response kept.
    usize cache_slots = 4096;
    usize cache_max_response = 1232;
};

// The rest of a zone transfer, one message at a time.
class Transfer {
public:
    bool active() const { return m_zone != nullptr; }
    // Writes the next message into `out` (up to 65535 bytes); 0 when the transfer is over.
    usize next(std::span<u8> out);

private:
    friend class Server;
    enum class Phase : u8 { first_soa, body, last_soa, done };

    std::shared_ptr<const Zone> m_zone;
    Phase m_phase = Phase::done;
    usize m_node = 0;
    usize m_set = 0;
    usize m_rdata = 0;
    u16 m_id = 0;
    u16 m_flags = 0;
    Question m_question;
};

class Server {
public:
    explicit Server(ServerOptions = {});
    ~Server();
    Server(Server&&);
    Server& operator=(Server&&);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    const ServerOptions& options() const { return m_options; }

    // Serves `zone` from now on, replacing any zone with the same origin. Memoised answers
    // are dropped.
    void add_zone(Zone zone);
    bool remove_zone(const Name& origin);
    usize zone_count() const { return m_zones.size(); }
    usize record_count() const;
    // The most specific served zone that contains `name`, or null.
    const Zone* zone_for(const Name& name) const;

    // Answers the query in `query`, writing the response into `out`; returns its size, 0 when
    // there is nothing to send (a response, or fewer than 12 bytes). `out` holds at least 512
    // bytes (UDP answers never pass it, nor the EDNS size); over TCP it should hold 65535. An AXFR (or IXFR, answered in full) over TCP starts `transfer` when
    // one is given: send the returned first message, then transfer->next() until 0.
    usize answer(std::span<const u8> query, Transport, std::span<u8> out, Transfer* transfer = nullptr);

    struct Stats {
        u64 queries = 0;
        u64 memo_hits = 0;
        u64 dropped = 0;
        u64 transfers = 0;
    };
    const Stats& stats() const { return m_stats; }

private:
    struct CacheSlot;
    struct Resolution;

    usize error_response(const Query&, bool has_question, Rcode, std::span<u8> out, std::span<const u8> raw);
    usize resolve(const Query&, usize limit, Transport, std::span<u8> out, Transfer*);
    void resolve_in_zone(const Zone&, Resolution&);
    void invalidate();

    // The served zones by canonical origin (the views point into the zones' own names).
    ServerOptions m_options;
    std::vector<std::shared_ptr<const Zone>> m_zones;
    std::unordered_map<std::string_view, usize> m_by_origin;
    usize m_shortest_origin = 0; // in labels: lookups stop there
    usize m_longest_origin = 0;

    std::unique_ptr<CacheSlot[]> m_cache;
    usize m_cache_mask = 0;
    std::unique_ptr<u8[]> m_cache_bytes;
    Stats m_stats;
};

} // namespace sarab::dns
