// The kernel command line's words (src/platform/virtio/command_line.cpp), on the host: which
// are the application's and which Linux's, and Firecracker's `virtio_mmio.device=` values.
#include "../../../src/platform/virtio/command_line.hpp"

#include <gtest/gtest.h>

namespace {

using namespace sarab;
using namespace sarab::platform::virtio;

TEST(CommandLine, FirecrackersWordsAreLinuxs)
{
    for (const char* word : { "console=ttyS0", "reboot=k", "panic=1", "pci=off", "nomodules", "8250.nr_uarts=0", "i8042.noaux",
             "i8042.nomux", "i8042.nopnp", "i8042.dumbkbd", "root=/dev/vda", "rw", "ro", "random.trust_cpu=on", "quiet" })
        EXPECT_EQ(classify_word(word), WordKind::linux_word) << word;
}

TEST(CommandLine, ApplicationWords)
{
    for (const char* word : { "--count=3", "--log=virtio:debug", "--help", "-h", "--dev=service=net:0", "count=3", "hello",
             "--console=x", ".x=1", "x.=1", "a/b.c=1", "consoles=1" })
        EXPECT_EQ(classify_word(word), WordKind::application) << word;
    EXPECT_EQ(classify_word("--"), WordKind::separator);
    EXPECT_EQ(classify_word("virtio_mmio.device=4K@0xd0000000:5"), WordKind::virtio_mmio);
}

std::optional<MmioDeviceWord> parse(std::string_view word)
{
    EXPECT_TRUE(word.starts_with(virtio_mmio_prefix));
    return parse_virtio_mmio_device(word.substr(virtio_mmio_prefix.size()));
}

TEST(CommandLine, VirtioMmioDevices)
{
    auto d = parse("virtio_mmio.device=4K@0xd0000000:5");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size, 4096u);
    EXPECT_EQ(d->base, 0xd0000000u);
    EXPECT_EQ(d->irq, 5u);

    d = parse("virtio_mmio.device=512@0xfeb02c00:46");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size, 512u);
    EXPECT_EQ(d->base, 0xfeb02c00u);
    EXPECT_EQ(d->irq, 46u);

    d = parse("virtio_mmio.device=0x1000@4026531840:12:3"); // hex size, decimal base, an id
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size, 0x1000u);
    EXPECT_EQ(d->base, 0xf0000000u);
    EXPECT_EQ(d->irq, 12u);

    d = parse("virtio_mmio.device=1M@0xFEB00000:24");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->size, 1024u * 1024);
    EXPECT_EQ(d->base, 0xfeb00000u);

    d = parse("virtio_mmio.device=4k@0x100000000:7");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->base, 0x100000000u);
}

TEST(CommandLine, MalformedVirtioMmioDevices)
{
    for (const char* word : { "virtio_mmio.device=", "virtio_mmio.device=4K", "virtio_mmio.device=4K@", "virtio_mmio.device=4K@0xd0000000",
             "virtio_mmio.device=4K@0xd0000000:", "virtio_mmio.device=4K@0xd0000000:5x", "virtio_mmio.device=0@0xd0000000:5",
             "virtio_mmio.device=4Q@0xd0000000:5", "virtio_mmio.device=4K@0x:5", "virtio_mmio.device=4K@0xfffffffffffff000:5",
             "virtio_mmio.device=4K@0x1ffffffffffffffff:5", "virtio_mmio.device=99999999999999999999@0xd0000000:5",
             "virtio_mmio.device=4K@0xd0000000:70000", "virtio_mmio.device=4K@0xd0000000:5:", "virtio_mmio.device=17179869184G@0x1:5",
             "virtio_mmio.device=-4K@0xd0000000:5" })
        EXPECT_FALSE(parse(word)) << word;
}

} // namespace
