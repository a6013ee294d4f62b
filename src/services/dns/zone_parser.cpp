// The master-file parser (RFC 1035 5.1, RFC 2308 4 for $TTL, RFC 3597 5 for unknown types).
#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/zone.hpp>

#include <optional>

namespace sarab::dns {

namespace {

// Splits a master file into entries: the fields of one record or directive, which may span
// lines inside parentheses.
class Lexer {
public:
    Lexer(std::string_view text)
        : m_text(text)
    {
    }

    // Fills `fields` with the next entry; false at the end of the file.
    ErrorOr<bool, ZoneError> next(std::vector<Token>& fields, bool& blank_owner, u32& line)
    {
        fields.clear();
        blank_owner = false;
        for (;;) {
            if (m_pos >= m_text.size()) {
                if (m_depth > 0)
                    return failure(error(m_paren_line, "'(' is never closed"));
                return !fields.empty();
            }
            char c = m_text[m_pos];
            if (m_line_start) {
                m_line_start = false;
                m_line_blank = (c == ' ' || c == '\t');
            }
            if (c == '\n') {
                ++m_line;
                ++m_pos;
                m_line_start = true;
                if (m_depth == 0 && !fields.empty())
                    return true;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r') {
                ++m_pos;
                continue;
            }
            if (c == ';') {
                while (m_pos < m_text.size() && m_text[m_pos] != '\n')
                    ++m_pos;
                continue;
            }
            if (c == '(') {
                if (m_depth == 0)
                    m_paren_line = m_line;
                ++m_depth;
                ++m_pos;
                continue;
            }
            if (c == ')') {
                if (m_depth == 0)
                    return failure(error(m_line, "')' without '('"));
                --m_depth;
                ++m_pos;
                continue;
            }
            if (fields.empty()) {
                line = m_line;
                blank_owner = m_line_blank;
            }
            if (c == '"') {
                usize start = ++m_pos;
                for (;;) {
                    if (m_pos >= m_text.size() || m_text[m_pos] == '\n')
                        return failure(error(m_line, "unterminated quoted string"));
                    if (m_text[m_pos] == '\\') {
                        if (m_pos + 1 >= m_text.size())
                            return failure(error(m_line, "unterminated quoted string"));
                        if (m_text[m_pos + 1] == '\n')
                            ++m_line;
                        m_pos += 2;
                        continue;
                    }
                    if (m_text[m_pos] == '"')
                        break;
                    ++m_pos;
                }
                fields.push_back({ m_text.substr(start, m_pos - start), true });
                ++m_pos;
                continue;
            }
            usize start = m_pos;
            while (m_pos < m_text.size()) {
                char d = m_text[m_pos];
                if (d == '\\') {
                    if (m_pos + 1 >= m_text.size() || m_text[m_pos + 1] == '\n')
                        return failure(error(m_line, "'\\' at the end of a line"));
                    m_pos += 2;
                    continue;
                }
                if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' || d == '(' || d == ')' || d == '"')
                    break;
                ++m_pos;
            }
            fields.push_back({ m_text.substr(start, m_pos - start), false });
        }
    }

    static ZoneError error(u32 line, std::string_view detail)
    {
        ZoneError e;
        e.code = ZoneErrc::syntax;
        e.line = line;
        e.set_detail(detail);
        return e;
    }

private:
    std::string_view m_text;
    usize m_pos = 0;
    u32 m_line = 1;
    u32 m_paren_line = 0;
    u32 m_depth = 0;
    bool m_line_start = true;
    bool m_line_blank = false;
};

ZoneError make_error(ZoneErrc code, u32 line, std::string_view detail)
{
    ZoneError e;
    e.code = code;
    e.line = line;
    e.set_detail(detail);
    return e;
}

bool is_meta_type(u16 type)
{
    return type == 0 || type == u16(RrType::opt) || (type >= 128 && type <= 255);
}

class Parser {
public:
    Parser(std::string_view text, const Name* default_origin)
        : m_lexer(text)
    {
        if (default_origin)
            m_origin = *default_origin;
    }

    ErrorOr<Zone, ZoneError> run()
    {
        std::vector<Token> fields;
        bool blank_owner = false;
        u32 line = 0;
        for (;;) {
            bool more = TRY(m_lexer.next(fields, blank_owner, line));
            if (!more)
                break;
            if (!blank_owner && !fields[0].quoted && fields[0].text.starts_with('$'))
                TRY(directive(fields, line));
            else
                TRY(record(fields, blank_owner, line));
        }
        if (!m_builder)
            return failure(make_error(ZoneErrc::no_soa, line ? line : 1, "the file has no records"));
        return m_builder->finish();
    }

private:
    static bool iequal(std::string_view a, std::string_view b)
    {
        if (a.size() != b.size())
            return false;
        for (usize i = 0; i < a.size(); ++i) {
            if (ascii_lower(u8(a[i])) != ascii_lower(u8(b[i])))
                return false;
        }
        return true;
    }

    ErrorOr<void, ZoneError> directive(const std::vector<Token>& fields, u32 line)
    {
        std::string_view word = fields[0].text;
        InlineFormatBuffer<120> text;
        if (iequal(word, "$ORIGIN")) {
            if (fields.size() != 2)
                return failure(make_error(ZoneErrc::bad_directive, line, "$ORIGIN takes one name"));
            auto name = Name::parse(fields[1].text, m_origin ? &*m_origin : nullptr);
            if (!name) {
                format_to(text, "$ORIGIN '{}': {}", fields[1].text, error_name(name.error()));
                return failure(make_error(name.error() == NameError::relative ? ZoneErrc::no_origin : ZoneErrc::bad_name, line, text.view()));
            }
            m_origin = *name;
            return {};
        }
        if (iequal(word, "$TTL")) {
            if (fields.size() != 2)
                return failure(make_error(ZoneErrc::bad_directive, line, "$TTL takes one value"));
            auto ttl = parse_ttl(fields[1].text);
            if (!ttl) {
                format_to(text, "$TTL '{}'", fields[1].text);
                return failure(make_error(ZoneErrc::bad_ttl, line, text.view()));
            }
            m_default_ttl = *ttl;
            return {};
        }
        if (iequal(word, "$INCLUDE") || iequal(word, "$GENERATE")) {
            format_to(text, "{}: one zone is one file here", word);
            return failure(make_error(ZoneErrc::unsupported, line, text.view()));
        }
        format_to(text, "unknown directive '{}'", word);
        return failure(make_error(ZoneErrc::bad_directive, line, text.view()));
    }

    ErrorOr<void, ZoneError> record(const std::vector<Token>& fields, bool blank_owner, u32 line)
    {
        InlineFormatBuffer<120> text;
        usize i = 0;
        Name owner;
        if (blank_owner) {
            if (!m_previous_owner)
                return failure(make_error(ZoneErrc::no_origin, line, "a record with a blank owner and no record before it"));
            owner = *m_previous_owner;
        } else {
            auto name = Name::parse(fields[0].text, m_origin ? &*m_origin : nullptr);
            if (!name) {
                format_to(text, "owner '{}': {}", fields[0].text, error_name(name.error()));
                return failure(make_error(name.error() == NameError::relative ? ZoneErrc::no_origin : ZoneErrc::bad_name, line, text.view()));
            }
            owner = *name;
            i = 1;
        }

        // [TTL] [CLASS] TYPE, or [CLASS] [TTL] TYPE.
        std::optional<u32> ttl;
        bool have_class = false;
        for (usize k = 0; k < 2 && i < fields.size(); ++k) {
            const Token& f = fields[i];
            if (!ttl && !f.text.empty() && f.text[0] >= '0' && f.text[0] <= '9') {
                ttl = parse_ttl(f.text);
                if (!ttl) {
                    format_to(text, "'{}'", f.text);
                    return failure(make_error(ZoneErrc::bad_ttl, line, text.view()));
                }
                ++i;
                continue;
            }
            if (!have_class) {
                if (auto klass = class_from_text(f.text)) {
                    if (*klass != u16(RrClass::in)) {
                        format_to(text, "class '{}': only IN is served", f.text);
                        return failure(make_error(ZoneErrc::bad_class, line, text.view()));
                    }
                    have_class = true;
                    ++i;
                    continue;
                }
            }
            break;
        }
        if (i >= fields.size())
            return failure(make_error(ZoneErrc::bad_type, line, "no type"));
        auto type = type_from_text(fields[i].text);
        if (!type || is_meta_type(*type)) {
            format_to(text, "'{}'", fields[i].text);
            return failure(make_error(ZoneErrc::bad_type, line, text.view()));
        }
        ++i;

        if (ttl) {
            m_last_ttl = *ttl;
        } else if (m_default_ttl) {
            ttl = *m_default_ttl;
        } else if (m_last_ttl) {
            ttl = *m_last_ttl; // RFC 1035 5.1: the last explicit TTL
        } else {
            return failure(make_error(ZoneErrc::no_ttl, line, "give the record a TTL or set $TTL"));
        }

        if (!m_builder) {
            if (RrType(*type) != RrType::soa) {
                format_to(text, "the first record must be the zone's SOA");
                return failure(make_error(ZoneErrc::soa_not_first, line, text.view()));
            }
            m_builder.emplace(owner);
        }

        // Relative names in RDATA need an origin; the zone's apex serves when no $ORIGIN
        // was given.
        const Name& origin = m_origin ? *m_origin : m_builder->origin();
        m_rdata.clear();
        usize bad = 0;
        auto rdata_fields = std::span<const Token>(fields).subspan(i);
        auto parsed = parse_rdata(*type, rdata_fields, origin, m_rdata, bad);
        if (!parsed) {
            format_to(text, "{}", error_name(parsed.error()));
            if (bad < rdata_fields.size())
                format_to(text, " '{}'", rdata_fields[bad].text);
            text.append(" (");
            format_type(text, *type);
            text.append(" record)");
            return failure(make_error(ZoneErrc::bad_rdata, line, text.view()));
        }
        TRY(m_builder->add(owner, *type, *ttl, m_rdata, line));
        m_previous_owner = owner;
        return {};
    }

    Lexer m_lexer;
    std::optional<Name> m_origin;
    std::optional<Name> m_previous_owner;
    std::optional<u32> m_default_ttl;
    std::optional<u32> m_last_ttl;
    std::optional<ZoneBuilder> m_builder;
    std::vector<u8> m_rdata;
};

} // namespace

ErrorOr<Zone, ZoneError> parse_zone(std::string_view text, std::string_view file, const Name* default_origin)
{
    Parser parser(text, default_origin);
    auto zone = parser.run();
    if (!zone) {
        ZoneError e = zone.error();
        e.file = file;
        return failure(e);
    }
    return zone.release_value();
}

std::optional<Name> origin_from_file_name(std::string_view file)
{
    usize slash = file.rfind('/');
    if (slash != std::string_view::npos)
        file = file.substr(slash + 1);
    if (file.ends_with(".zone"))
        file = file.substr(0, file.size() - 5);
    if (file.empty() || file.find('\\') != std::string_view::npos)
        return std::nullopt;
    Name root;
    auto name = Name::parse(file, &root);
    if (!name)
        return std::nullopt;
    return *name;
}

} // namespace sarab::dns
