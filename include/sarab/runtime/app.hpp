// The application's entry point and the start of an image.
#pragma once

#include <sarab/runtime/task.hpp>

namespace sarab {

// Written by the application: runs once every declared device is open; its value is the
// image's exit status.
Task<int> app_main();

// Called by each platform's entry point once the platform is up: parses the boot arguments
// (exit status 2 when they are bad, 0 after --help), configures logging, opens the declared
// devices, then runs app_main on a new scheduler. Returns the exit status.
int start_image();

} // namespace sarab
