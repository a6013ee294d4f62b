#include "hosted_env.hpp"

#include <sarab/base/boot_args.hpp>
#include <sarab/base/format.hpp>
#include <sarab/platform/hosted.hpp>
#include <sarab/platform/platform.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace sarab::test::hosted {

namespace {

// Files created for the block tests; see block_test.cpp for which test uses which.
constexpr BlockFixture g_block_files[] = {
    { "capacity", 64, 0, 1 },
    { "partial", 10, 100, 2 },
    { "empty", 0, 0, 3 },
    { "read", 48, 0, 4 },
    { "write", 32, 0, 5 },
    { "range", 16, 0, 6 },
    { "align", 16, 0, 7 },
    { "readonly", 8, 0, 8 },
};

std::string g_dir;
std::string g_tap;
// The words of the fake argv. They must outlive the process's use of the platform: the
// hosted platform and the boot arguments keep string_views into them.
std::vector<std::unique_ptr<std::string>> g_words;
std::vector<char*> g_argv;

void add_word(std::string word)
{
    g_words.push_back(std::make_unique<std::string>(std::move(word)));
    g_argv.push_back(g_words.back()->data());
}

void write_file(const BlockFixture& f)
{
    std::string path = block_path(f.name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    u64 size = f.sectors * sector_size + f.extra_bytes;
    for (u64 i = 0; i < size; ++i)
        out.put(char(pattern(f.seed, i)));
    out.close();
    if (!out)
        FAIL() << "cannot write " << path;
}

class HostedEnvironment : public ::testing::Environment {
public:
    void SetUp() override
    {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/sarab-hosted-test-XXXXXX";
        if (!::mkdtemp(templ.data()))
            FAIL() << "mkdtemp " << templ << ": " << std::strerror(errno);
        g_dir = templ;
        for (const BlockFixture& f : g_block_files)
            write_file(f);
        std::filesystem::create_directory(block_path("directory"));
        if (const char* tap = std::getenv("SARAB_TEST_TAP"); tap && *tap)
            g_tap = tap;

        add_word("sarab_hosted_tests");
        for (const BlockFixture& f : g_block_files)
            add_word("--dev=" + std::string(f.name) + "=file:" + block_path(f.name));
        add_word("--dev=missing=file:" + block_path("missing"));     // does not exist
        add_word("--dev=directory=file:" + block_path("directory")); // not a regular file
        add_word("--dev=wrongkind=tap:sarabnosuch");                 // a net binding
        add_word("--dev=notatap=file:" + block_path("capacity"));    // a block binding, for net
        if (!g_tap.empty())
            add_word("--net=tap:" + g_tap);
        g_argv.push_back(nullptr);

        platform::hosted::init(int(g_argv.size() - 1), g_argv.data());
        InlineFormatBuffer<512> error;
        ParseOutcome outcome = parse_boot_arguments(platform::boot_arguments(), error);
        ASSERT_EQ(outcome, ParseOutcome::ok) << error.view();
    }

    void TearDown() override
    {
        if (!g_dir.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(g_dir, ignored);
        }
    }
};

[[maybe_unused]] ::testing::Environment* const g_environment = ::testing::AddGlobalTestEnvironment(new HostedEnvironment);

} // namespace

std::string block_path(std::string_view name)
{
    return g_dir + "/" + std::string(name) + ".img";
}

std::string_view tap_interface() { return g_tap; }

} // namespace sarab::test::hosted
