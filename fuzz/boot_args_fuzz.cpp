// Boot arguments: the input is a command line, split into words at spaces, tabs, newlines and
// NULs. Each word goes through the virtio kernel command line's classifier (and a
// virtio_mmio.device= word through its parser), then all of them through
// parse_boot_arguments against declared arguments of every value type. A parse says ok with
// no error text, or error with one; a word after `--` is always the application's.
#include "command_line.hpp"

#include <sarab/base/boot_args.hpp>

#include "fuzz_support.hpp"

#include <string_view>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

BootArg<u64> count { "count", 4, "a count" };
BootArg<u16> port { "port", 53, "a port" };
BootArg<i32> offset { "offset", -1, "a signed number" };
BootArg<bool> verbose { "verbose", false, "a flag" };
BootArg<double> ratio { "ratio", 0.5, "a ratio" };
BootArg<Duration> interval { "interval", 2500ms, "a duration" };
BootArg<std::string_view> name { "name", "anon", "a name" };
BootArgList items { "item", "X", "repeated" };

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\0'; }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> words;
    for (usize i = 0; i < text.size();) {
        if (is_separator(text[i])) {
            ++i;
            continue;
        }
        usize start = i;
        while (i < text.size() && !is_separator(text[i]))
            ++i;
        words.push_back(text.substr(start, i - start));
    }

    bool after_separator = false;
    for (std::string_view word : words) {
        auto kind = platform::virtio::classify_word(word);
        if (after_separator)
            continue;
        if (kind == platform::virtio::WordKind::separator)
            after_separator = true;
        if (kind == platform::virtio::WordKind::virtio_mmio) {
            VERIFY(word.starts_with(platform::virtio::virtio_mmio_prefix), "a virtio_mmio word without its prefix");
            if (auto device = platform::virtio::parse_virtio_mmio_device(word.substr(platform::virtio::virtio_mmio_prefix.size())))
                VERIFY(device->size > 0, "a virtio-mmio device of no size");
        }
        if (!word.empty() && word[0] == '-')
            VERIFY(kind == platform::virtio::WordKind::application || kind == platform::virtio::WordKind::separator, "a word of Sarab's taken for Linux's");
    }

    for (auto* a = BootArgBase::first(); a; a = a->next())
        a->reset();
    InlineFormatBuffer<512> error;
    ParseOutcome outcome = parse_boot_arguments(words, error);
    if (outcome == ParseOutcome::ok)
        VERIFY(error.view().empty(), "parsed, yet an error was written");
    if (outcome == ParseOutcome::error)
        VERIFY(!error.view().empty(), "an error without a message");
    if (outcome == ParseOutcome::ok)
        fuzz::touch(count.value() + port.value() + u64(offset.value()) + u64(verbose.value()) + u64(name.value().size()) + items.values().size());
    return 0;
}
