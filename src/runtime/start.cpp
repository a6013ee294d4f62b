#include <sarab/base/boot_args.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/print.hpp>
#include <sarab/runtime/app.hpp>
#include <sarab/runtime/devices.hpp>
#include <sarab/runtime/scheduler.hpp>

namespace sarab {

namespace {

log::Source g_log { "runtime" };
using namespace std::string_view_literals;
BootArg<std::string_view> g_log_spec { "log", "info"sv, "log levels: LEVEL, or LEVEL,SOURCE:LEVEL,... (trace debug info warn error off)", ArgGroup::runtime };

void print_devices()
{
    bool any = false;
    for (auto* d = DeviceDeclaration::first(); d; d = d->next()) {
        if (!any)
            println("\ndevices:");
        any = true;
        println("  {:<9} {:<12} {}", d->kind(), d->name(), d->help());
    }
}

} // namespace

// Not inlined into the platform's start (link-time optimisation would): a debugger's
// backtrace from app_main then names both, down to the boot code.
[[gnu::noinline]] int start_image()
{
    InlineFormatBuffer<512> error;
    switch (parse_boot_arguments(platform::boot_arguments(), error)) {
    case ParseOutcome::help:
        print_boot_usage(platform::image_name());
        print_devices();
        return 0;
    case ParseOutcome::error:
        println("{}: error: {}", platform::image_name(), error.view());
        return 2;
    case ParseOutcome::ok:
        break;
    }
    // Every source starts at the default level (info): only a given --log changes anything.
    if (g_log_spec.was_given() && !log::configure(g_log_spec.value(), error)) {
        println("{}: error: bad value for --log: {}", platform::image_name(), error.view());
        return 2;
    }

    // Declarations register newest first; open them in the order they were declared.
    DeviceDeclaration* declared[64];
    usize count = 0;
    for (auto* d = DeviceDeclaration::first(); d && count < 64; d = d->next())
        declared[count++] = d;
    while (count-- > 0) {
        DeviceDeclaration* d = declared[count];
        error.clear();
        auto opened = d->open_declared(error);
        if (!opened) {
            println("{}: error: {} device '{}': {}", platform::image_name(), d->kind(), d->name(), error.view());
            return opened.error() == OpenError::not_bound ? 2 : 1;
        }
        log::debug(g_log, "{} device '{}' is open", d->kind(), d->name());
    }
    // Start-up is over: the platform takes away what only it needed (virtio: the page tables
    // become read-only), and no device can be acquired any more.
    platform::seal();

    Scheduler scheduler;
    for (auto* d = DeviceDeclaration::first(); d; d = d->next())
        d->start();
    int status = scheduler.run(app_main());
    log::debug(g_log, "app_main returned {}", status);
    return status;
}

} // namespace sarab
