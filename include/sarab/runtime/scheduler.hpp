// The scheduler: runs tasks on one core, keeps the timers, and waits on the platform.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/time.hpp>
#include <sarab/platform/platform.hpp>
#include <sarab/runtime/task.hpp>
#include <sarab/runtime/waiter.hpp>

#include <array>
#include <vector>

namespace sarab {

namespace detail {

// The state of one spawned (or run) task: its top frame and who waits for it to end.
// (64 bytes, from the frame allocator: a million sleeping tasks must fit in 200 MB.)
struct TaskRoot {
    enum class State : u8 { scheduled, completed, cancelled };

    static void* operator new(usize size) { return allocate_frame(size); }
    static void operator delete(void* p, usize size) { free_frame(p, size); }

    std::coroutine_handle<> frame;
    WaitQueue joiners;            // tasks waiting for this one to end
    TaskRoot* prev = nullptr;     // the scheduler's list of live roots
    TaskRoot* next = nullptr;
    TaskRoot* next_start = nullptr; // the scheduler's list of roots to start
    u32 references = 1;           // the scheduler's, the start list's, one per TaskHandle
    State state = State::scheduled;
    bool keep_frame = false;      // Scheduler::run reads the result out of the frame afterwards
};
static_assert(sizeof(TaskRoot) <= 64);

// A binary min-heap of waiters by (deadline, sequence): equal deadlines fire in the order
// they were set, so runs are deterministic.
class TimerHeap {
public:
    bool empty() const { return m_heap.empty(); }
    usize size() const { return m_heap.size(); }
    Waiter& top() const { return *m_heap.front(); }
    void push(Waiter&);
    void remove(Waiter&);
    void reserve(usize n) { m_heap.reserve(n); }

private:
    static bool before(const Waiter* a, const Waiter* b)
    {
        return a->timer.deadline_ns < b->timer.deadline_ns
            || (a->timer.deadline_ns == b->timer.deadline_ns && a->timer.sequence < b->timer.sequence);
    }
    void place(usize index, Waiter* w)
    {
        m_heap[index] = w;
        w->timer.heap_index = u32(index);
    }
    void sift_up(usize index);
    void sift_down(usize index);

    std::vector<Waiter*> m_heap;
};

struct JoinAwaiter {
    TaskRoot* root;
    Waiter waiter;
    bool await_ready() const noexcept { return root->state != TaskRoot::State::scheduled; }
    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        waiter.suspend(h);
        root->joiners.push_back(waiter);
    }
    ErrorOr<void> await_resume() const
    {
        if (root->state == TaskRoot::State::cancelled)
            return failure(Errc::cancelled);
        return {};
    }
};

} // namespace detail

class Scheduler;

// A spawned task, seen from outside: cancel it, or wait for it to end.
class TaskHandle {
public:
    TaskHandle() = default;
    explicit TaskHandle(detail::TaskRoot* root);
    TaskHandle(const TaskHandle&);
    TaskHandle& operator=(const TaskHandle&);
    TaskHandle(TaskHandle&& other) noexcept
        : m_root(std::exchange(other.m_root, nullptr))
    {
    }
    TaskHandle& operator=(TaskHandle&& other) noexcept;
    ~TaskHandle();

    bool is_valid() const { return m_root != nullptr; }
    bool is_done() const;
    bool was_cancelled() const;

    // Destroys the task where it waits (its awaiters unlink themselves) and wakes its
    // joiners. Nothing happens if it has already ended. A task cannot cancel itself.
    void cancel();

    // co_await handle.join(): ErrorOr<void> that is Errc::cancelled if the task was cancelled.
    detail::JoinAwaiter join() const
    {
        VERIFY(m_root, "join() on an empty TaskHandle");
        return detail::JoinAwaiter { m_root, {} };
    }

private:
    detail::TaskRoot* m_root = nullptr;
};

class Scheduler {
public:
    Scheduler();
    ~Scheduler(); // cancels every task still alive
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // The scheduler of this image (there is one at a time).
    static Scheduler& current();
    // Tells schedulers apart over time (tests make many, one after another, often at the
    // same address): state tied to a scheduler, like a helper task, checks this.
    u64 id() const { return m_id; }

    // Runs `task` and everything it spawns until `task` has finished; returns its value.
    template<class T>
    T run(Task<T> task)
    {
        auto handle = task.handle();
        detail::TaskRoot root;
        root.keep_frame = true;
        root.references = 2; // ours and the scheduler's (start_root adds the start list's)
        start_root(root, handle);
        run_until(root);
        return handle.promise().take_result();
    }

    // Starts `task` at the next turn of the loop and lets it run on its own.
    TaskHandle spawn(Task<void> task);

    // Interrupt moderation: the devices are not polled for the next `quiet` (or until a
    // later quiet period set earlier ends); tasks and timers run as usual. What arrives
    // meanwhile is then picked up in one batch, as a NIC that delays its interrupts would
    // hand it over. A server under load asks for this so that it is woken once per batch
    // rather than once per request; it costs each request at most `quiet` of latency.
    void moderate_devices(Duration quiet);

    // ---- for awaiters ----
    void make_ready(detail::Waiter&);
    // Sets a timer for the deadline already in w.timer.deadline_ns.
    void add_timer(detail::Waiter& w);
    void remove_timer(detail::Waiter& w) { m_timers.remove(w); }
    void wait_for_device(detail::Waiter&, platform::Handle);
    detail::TaskRoot* running_root() const { return m_running_root; }

    // ---- for the runtime and for tests ----
    struct Stats {
        u64 resumes = 0;
        u64 yields = 0;       // calls into platform::yield
        u64 quiet_yields = 0; // of which, waits that polled no device (moderate_devices)
        u64 timers_fired = 0;
        u64 tasks_spawned = 0;
        usize live_tasks = 0;
        usize pending_timers = 0;
    };
    Stats stats() const;
    // Runs one turn of the loop: ready tasks, timers, one platform::yield.
    void run_once();
    void reserve_timers(usize n) { m_timers.reserve(n); }

private:
    friend struct TaskHandle_access;
    friend class TaskHandle;
    friend std::coroutine_handle<> detail::finish_root(detail::TaskRoot*, std::coroutine_handle<>) noexcept;

    void start_root(detail::TaskRoot&, std::coroutine_handle<> frame);
    void run_until(detail::TaskRoot&);
    void run_ready_batch();
    platform::HandleSet interest();
    void fire_timers(Instant now);
    void end_root(detail::TaskRoot&, detail::TaskRoot::State);
    void unref_root(detail::TaskRoot&);
    void cancel_root(detail::TaskRoot&);

    detail::WaitQueue m_ready;
    detail::TimerHeap m_timers;
    std::array<detail::WaitQueue, platform::max_handles> m_device_waiters;
    platform::HandleSet m_interest; // devices that may have waiters (checked before use)
    detail::TaskRoot* m_roots = nullptr; // every live root, for shutdown
    detail::TaskRoot* m_start_head = nullptr; // spawned, to start at the next turn
    detail::TaskRoot* m_start_tail = nullptr;
    detail::TaskRoot* m_running_root = nullptr;
    detail::TaskRoot* m_awaited = nullptr; // the task run() is running
    u64 m_timer_sequence = 0;
    u64 m_id;
    Stats m_stats;
    // When the devices were last polled, in turns and in time: while tasks stay runnable the
    // devices are polled again only after poll_every_turns turns or poll_every_ns.
    static constexpr u32 poll_every_turns = 32;
    static constexpr u64 poll_every_ns = 50'000;
    u32 m_turns_since_yield = 0;
    u64 m_last_yield_ns = 0;
    u64 m_quiet_until_ns = 0; // moderate_devices: no device polling before this
};

// ---- awaitables for tasks ----------------------------------------------------------------

namespace detail {

struct SleepAwaiter {
    explicit SleepAwaiter(Instant deadline) { waiter.timer.deadline_ns = deadline.time_since_epoch().count(); }
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        waiter.suspend(h);
        Scheduler::current().add_timer(waiter);
    }
    void await_resume() const noexcept { }
};

struct DeviceAwaiter {
    platform::Handle device;
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        waiter.suspend(h);
        Scheduler::current().wait_for_device(waiter, device);
    }
    void await_resume() const noexcept { }
};

} // namespace detail

// co_await sleep_until(t): resumes once the monotonic clock has reached t.
inline detail::SleepAwaiter sleep_until(Instant deadline) { return detail::SleepAwaiter(deadline); }
// co_await sleep_for(d): resumes after at least d. sleep_for(0ns) lets other tasks run first.
inline detail::SleepAwaiter sleep_for(Duration d) { return detail::SleepAwaiter(MonotonicClock::now() + d); }
// co_await yield_now(): goes to the back of the ready queue.
inline detail::SleepAwaiter yield_now() { return detail::SleepAwaiter(Instant::min()); }
// co_await wait_for_device(h): resumes when the platform reports device h ready.
inline detail::DeviceAwaiter wait_for_device(platform::Handle h) { return { h, {} }; }

inline TaskHandle spawn(Task<void> task) { return Scheduler::current().spawn(std::move(task)); }

} // namespace sarab
