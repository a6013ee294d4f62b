// Runtime layer: coroutines, the scheduler, timers and waiting.
//
// Contract: one scheduler per image, on one core, cooperative. A Task runs until it awaits
// something; every place a task can wait (a timer, an event, a device, a channel, another
// task) is an awaiter holding a Waiter node, and every Waiter unlinks itself when destroyed.
// That is what makes cancellation safe: cancelling a task destroys its coroutine frames, and
// with them the awaiters it was suspended in, wherever they were queued. The loop runs
// ready tasks, finds the earliest timer, yields to the platform until then or until a
// device of interest is ready, and wakes whatever that made ready. It never busy-waits.
#pragma once

#include <sarab/base/time.hpp>
#include <sarab/base/types.hpp>
#include <sarab/base/verify.hpp>

#include <coroutine>

namespace sarab::detail {

struct TaskRoot;
class WaitQueue;

// A suspended coroutine and where it waits: in at most one WaitQueue (the ready queue is one
// too) or in the timer heap, never both, so the queue links and the timer slot share space.
// Every task that waits has one or two of these, so they are kept small (48 bytes).
struct Waiter {
    static constexpr u32 no_index = ~u32(0);
    enum class Where : u8 { nowhere, queued, timer };

    struct QueueLink {
        Waiter* prev;
        Waiter* next;
        WaitQueue* queue;
    };
    struct TimerSlot {
        i64 deadline_ns;
        u64 sequence;
        u32 heap_index;
    };

    Waiter() { }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    ~Waiter() { detach(); }

    // Records who waits: the suspended coroutine and the task it belongs to.
    template<class Promise>
    void suspend(std::coroutine_handle<Promise> h)
    {
        handle = h;
        root = h.promise().root;
    }

    bool is_linked() const { return where != Where::nowhere; }
    void detach();
    Instant deadline() const { return Instant(Duration(timer.deadline_ns)); }

    std::coroutine_handle<> handle;
    TaskRoot* root = nullptr;
    union {
        QueueLink link;  // where == queued
        TimerSlot timer; // where == timer, and the deadline to be while nowhere
    };
    Where where = Where::nowhere;
};
static_assert(sizeof(Waiter) <= 48);

// An intrusive FIFO of waiters; O(1) to add, take and remove.
class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;
    ~WaitQueue()
    {
        while (m_head)
            remove(*m_head);
    }

    bool empty() const { return m_head == nullptr; }
    usize size() const { return m_size; }

    void push_back(Waiter& w)
    {
        VERIFY(!w.is_linked(), "a waiter can wait in one place at a time");
        w.where = Waiter::Where::queued;
        w.link = { m_tail, nullptr, this };
        if (m_tail)
            m_tail->link.next = &w;
        else
            m_head = &w;
        m_tail = &w;
        ++m_size;
    }

    Waiter* pop_front()
    {
        Waiter* w = m_head;
        if (w)
            remove(*w);
        return w;
    }

    void remove(Waiter& w)
    {
        VERIFY(w.where == Waiter::Where::queued && w.link.queue == this);
        if (w.link.prev)
            w.link.prev->link.next = w.link.next;
        else
            m_head = w.link.next;
        if (w.link.next)
            w.link.next->link.prev = w.link.prev;
        else
            m_tail = w.link.prev;
        w.where = Waiter::Where::nowhere;
        --m_size;
    }

    // Moves every waiter of `other` to the back of this queue.
    void splice(WaitQueue& other)
    {
        while (!other.empty())
            push_back(*other.pop_front());
    }

private:
    Waiter* m_head = nullptr;
    Waiter* m_tail = nullptr;
    usize m_size = 0;
};

} // namespace sarab::detail
