// Waiting for each other: Notifier (wake one or all waiters), Event (a flag that can be
// waited for) and Channel<T> (a bounded queue between tasks).
#pragma once

#include <sarab/runtime/scheduler.hpp>

#include <optional>
#include <vector>

namespace sarab {

namespace detail {

struct QueueAwaiter {
    WaitQueue* queue;
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        waiter.suspend(h);
        queue->push_back(waiter);
    }
    void await_resume() const noexcept { }
};

} // namespace detail

// Tasks wait in FIFO order until notified. Holds no state: a notify with nobody waiting is
// lost, so wait in a loop around the condition you are waiting for.
class Notifier {
public:
    detail::QueueAwaiter wait() { return { &m_waiters, {} }; }
    bool notify_one()
    {
        detail::Waiter* w = m_waiters.pop_front();
        if (w)
            Scheduler::current().make_ready(*w);
        return w != nullptr;
    }
    void notify_all()
    {
        while (notify_one()) { }
    }
    usize waiting() const { return m_waiters.size(); }

private:
    detail::WaitQueue m_waiters;
};

// A flag: wait() returns at once while it is set, else when it is next set.
class Event {
public:
    auto wait()
    {
        struct Awaiter : detail::QueueAwaiter {
            bool already;
            bool await_ready() const noexcept { return already; }
        };
        return Awaiter { { &m_waiters, {} }, m_set };
    }
    void set()
    {
        m_set = true;
        while (detail::Waiter* w = m_waiters.pop_front())
            Scheduler::current().make_ready(*w);
    }
    void reset() { m_set = false; }
    bool is_set() const { return m_set; }

private:
    detail::WaitQueue m_waiters;
    bool m_set = false;
};

enum class ChannelError : u8 { closed, full };

// A bounded FIFO between tasks. receive() waits while it is empty and gives nullopt once it
// is closed and drained; send() waits while it is full.
template<class T>
class Channel {
public:
    explicit Channel(usize capacity)
        : m_slots(capacity)
    {
        VERIFY(capacity > 0);
    }

    usize size() const { return m_count; }
    usize capacity() const { return m_slots.size(); }
    bool is_closed() const { return m_closed; }

    ErrorOr<void, ChannelError> try_send(T value)
    {
        if (m_closed)
            return failure(ChannelError::closed);
        if (m_count == m_slots.size())
            return failure(ChannelError::full);
        m_slots[(m_head + m_count) % m_slots.size()].emplace(std::move(value));
        ++m_count;
        m_readable.notify_one();
        return {};
    }

    std::optional<T> try_receive()
    {
        if (m_count == 0)
            return std::nullopt;
        std::optional<T> value = std::move(m_slots[m_head]);
        m_slots[m_head].reset();
        m_head = (m_head + 1) % m_slots.size();
        --m_count;
        m_writable.notify_one();
        return value;
    }

    Task<ErrorOr<void, ChannelError>> send(T value)
    {
        while (!m_closed && m_count == m_slots.size())
            co_await m_writable.wait();
        co_return try_send(std::move(value));
    }

    Task<std::optional<T>> receive()
    {
        while (m_count == 0 && !m_closed)
            co_await m_readable.wait();
        co_return try_receive();
    }

    void close()
    {
        m_closed = true;
        m_readable.notify_all();
        m_writable.notify_all();
    }

private:
    std::vector<std::optional<T>> m_slots;
    usize m_head = 0;
    usize m_count = 0;
    bool m_closed = false;
    Notifier m_readable;
    Notifier m_writable;
};

} // namespace sarab
