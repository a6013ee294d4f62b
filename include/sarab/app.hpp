// Everything an application needs, in one include.
#pragma once

#include <sarab/base/boot_args.hpp>
#include <sarab/base/error.hpp>
#include <sarab/base/log.hpp>
#include <sarab/base/print.hpp>
#include <sarab/base/time.hpp>
#include <sarab/runtime/app.hpp>
#include <sarab/runtime/devices.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/task.hpp>
#include <sarab/runtime/when.hpp>
