// Sarab base layer: vocabulary shared by every layer.
//
// The base layer holds what every other layer speaks in: fixed-width integer names, result
// types, contracts (VERIFY), text formatting, time types, logging and boot arguments. It
// depends on nothing above it; of the platform seam it uses only console_write,
// monotonic_ns and abort, resolved when the image is linked.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sarab {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i8 = std::int8_t;
using i16 = std::int16_t;
using i32 = std::int32_t;
using i64 = std::int64_t;
using usize = std::size_t;

} // namespace sarab
