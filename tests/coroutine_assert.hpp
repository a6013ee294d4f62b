// GoogleTest's ASSERT_* return from the function, which a coroutine cannot do: these stop a
// Task<void> with co_return instead.
#pragma once

#include <gtest/gtest.h>

#define CO_ASSERT_TRUE(condition)                                                                \
    do {                                                                                         \
        if (!(condition)) {                                                                      \
            ADD_FAILURE() << "CO_ASSERT_TRUE(" #condition ") failed";                            \
            co_return;                                                                           \
        }                                                                                        \
    } while (0)

#define CO_ASSERT_FALSE(condition) CO_ASSERT_TRUE(!(condition))
