#include <sarab/base/boot_args.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/print.hpp>
#include <sarab/runtime/app.hpp>
#include <sarab/runtime/devices.hpp>
#include <sarab/runtime/scheduler.hpp>

namespace sarab {

namespace {

log::Source g_log { "runtime" };
BootArg<std::string_view> g_log_spec { "log", "info", "log levels: LEVEL, or LEVEL,SOURCE:LEVEL,... (trace debug info warn error off)", ArgGroup::runtime };

void print_devices()
{
    bool any = false;
    for (auto* d = DeviceDeclaration::first(); d; d = d->next()) {
        if (!any)
            println("\ndevices:");
        any = true;
        println("  {} {:<12} {}", d->kind() == DeviceKind::net ? "net  " : "block", d->name(), d->help());
    }
}

} // namespace

int start_image()
{
    std::string_view image = platform::image_name();
    InlineFormatBuffer<512> error;
    switch (parse_boot_arguments(platform::boot_arguments(), error)) {
    case ParseOutcome::help:
        print_boot_usage(image);
        print_devices();
        return 0;
    case ParseOutcome::error:
        println("{}: error: {}", image, error.view());
        return 2;
    case ParseOutcome::ok:
        break;
    }
    if (!log::configure(g_log_spec.value(), error)) {
        println("{}: error: bad value for --log: {}", image, error.view());
        return 2;
    }

    for (auto* d = DeviceDeclaration::first(); d; d = d->next()) {
        if (d->kind() == DeviceKind::net) {
            auto opened = static_cast<NetDevice*>(d)->open();
            if (!opened) {
                println("{}: error: net device '{}': {}", image, d->name(), platform::error_name(opened.error()));
                return opened.error() == platform::NetError::not_bound ? 2 : 1;
            }
            auto& info = static_cast<NetDevice*>(d)->info();
            log::info(g_log, "net device '{}': mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, mtu {}", d->name(), info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4], info.mac[5], info.mtu);
        } else {
            auto opened = static_cast<BlockDevice*>(d)->open();
            if (!opened) {
                println("{}: error: block device '{}': {}", image, d->name(), platform::error_name(opened.error()));
                return opened.error() == platform::BlockError::not_bound ? 2 : 1;
            }
            auto& info = static_cast<BlockDevice*>(d)->info();
            log::info(g_log, "block device '{}': {} sectors of {} bytes{}", d->name(), info.sectors, info.sector_size, info.read_only ? ", read-only" : "");
        }
    }

    Scheduler scheduler;
    int status = scheduler.run(app_main());
    log::debug(g_log, "app_main returned {}", status);
    return status;
}

} // namespace sarab
