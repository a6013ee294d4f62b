// DNS service: whole messages, and the question of a query.
//
// parse_query is the server's hot path: it reads the header, the one question and the OPT
// record (RFC 6891) of a query without allocating, and says whether the query is one to
// answer, one to answer with FORMERR or NOTIMP, or one to drop. Message is the owning form of
// any message (every section, RDATA decompressed), for tests, tools and the fuzz target; it
// allocates and is never used per query by the server.
#pragma once

#include <sarab/services/dns/name.hpp>
#include <sarab/services/dns/wire.hpp>

#include <vector>

namespace sarab::dns {

struct Question {
    Name name;
    u16 type = 0;
    u16 klass = 0;
};

struct Edns {
    bool present = false;
    u16 udp_size = 0;
    u8 version = 0;
    bool do_bit = false;
};

// What a query asks, as the server needs it.
struct Query {
    Header header;
    Question question;   // the name as it came, in the client's case
    Name canonical_name; // the same, lower-case
    Edns edns;
    usize question_end = 0; // where the question ends in the message
};

enum class QueryError : u8 {
    drop,    // not a query to answer: too short for a header, or a response
    formerr, // a malformed question or OPT record: answer FORMERR
    notimp,  // an opcode the server does not implement: answer NOTIMP
};

// Parses a query. On formerr and notimp, `query.header` (and the question, if it could be
// read) are filled in for the error response.
ErrorOr<void, QueryError> parse_query(std::span<const u8> message, Query& query, bool& has_question);

struct Record {
    Name owner;
    u16 type = 0;
    u16 klass = 0;
    u32 ttl = 0;
    std::vector<u8> rdata; // uncompressed

    bool operator==(const Record&) const = default;
};

struct Message {
    Header header;
    std::vector<Question> questions;
    std::vector<Record> answers;
    std::vector<Record> authority;
    std::vector<Record> additional;

    static ErrorOr<Message, ParseError> parse(std::span<const u8>);
    // Writes the message, compressing names; the size, or nothing when it does not fit.
    // The header's counts come from the sections.
    ErrorOr<usize, ParseError> emit(std::span<u8> out) const;
};

} // namespace sarab::dns
