#include <sarab/runtime/scheduler.hpp>

namespace sarab {

namespace {
Scheduler* g_current = nullptr;
} // namespace

// ---- waiters and timers -------------------------------------------------------------------

void detail::Waiter::detach()
{
    if (queue)
        queue->remove(*this);
    else if (heap_index != no_index)
        Scheduler::current().remove_timer(*this);
}

void detail::TimerHeap::push(Waiter& w)
{
    m_heap.push_back(&w);
    w.heap_index = u32(m_heap.size() - 1);
    sift_up(m_heap.size() - 1);
}

void detail::TimerHeap::remove(Waiter& w)
{
    usize index = w.heap_index;
    VERIFY(index < m_heap.size() && m_heap[index] == &w);
    Waiter* last = m_heap.back();
    m_heap.pop_back();
    w.heap_index = Waiter::no_index;
    if (last == &w)
        return;
    place(index, last);
    sift_down(index);
    sift_up(last->heap_index);
}

void detail::TimerHeap::sift_up(usize index)
{
    Waiter* w = m_heap[index];
    while (index > 0) {
        usize parent = (index - 1) / 2;
        if (!before(w, m_heap[parent]))
            break;
        place(index, m_heap[parent]);
        index = parent;
    }
    place(index, w);
}

void detail::TimerHeap::sift_down(usize index)
{
    Waiter* w = m_heap[index];
    usize n = m_heap.size();
    for (;;) {
        usize child = 2 * index + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(m_heap[child + 1], m_heap[child]))
            ++child;
        if (!before(m_heap[child], w))
            break;
        place(index, m_heap[child]);
        index = child;
    }
    place(index, w);
}

// ---- task handles -------------------------------------------------------------------------

TaskHandle::TaskHandle(detail::TaskRoot* root)
    : m_root(root)
{
    if (m_root)
        ++m_root->references;
}

TaskHandle::TaskHandle(const TaskHandle& other)
    : TaskHandle(other.m_root)
{
}

TaskHandle& TaskHandle::operator=(const TaskHandle& other)
{
    TaskHandle copy(other);
    std::swap(m_root, copy.m_root);
    return *this;
}

TaskHandle& TaskHandle::operator=(TaskHandle&& other) noexcept
{
    TaskHandle moved(std::move(other));
    std::swap(m_root, moved.m_root);
    return *this;
}

TaskHandle::~TaskHandle()
{
    if (m_root)
        Scheduler::current().unref_root(*m_root);
}

bool TaskHandle::is_done() const
{
    return m_root && m_root->state != detail::TaskRoot::State::scheduled;
}

bool TaskHandle::was_cancelled() const
{
    return m_root && m_root->state == detail::TaskRoot::State::cancelled;
}

void TaskHandle::cancel()
{
    if (m_root && m_root->state == detail::TaskRoot::State::scheduled)
        Scheduler::current().cancel_root(*m_root);
}

// ---- the scheduler ------------------------------------------------------------------------

Scheduler::Scheduler()
{
    VERIFY(g_current == nullptr, "one scheduler at a time");
    g_current = this;
}

Scheduler::~Scheduler()
{
    // Cancel what is still alive, newest first. A root that stays after being cancelled is
    // held by a TaskHandle, which must not outlive its scheduler.
    while (m_roots) {
        VERIFY(m_roots->state == detail::TaskRoot::State::scheduled, "a TaskHandle outlives its scheduler");
        cancel_root(*m_roots);
    }
    g_current = nullptr;
}

Scheduler& Scheduler::current()
{
    VERIFY(g_current, "no scheduler is running");
    return *g_current;
}

void Scheduler::start_root(detail::TaskRoot& root, std::coroutine_handle<> frame)
{
    auto typed = std::coroutine_handle<detail::PromiseBase>::from_address(frame.address());
    typed.promise().root = &root;
    root.frame = frame;
    root.start.handle = frame;
    root.start.root = &root;
    root.next = m_roots;
    if (m_roots)
        m_roots->prev = &root;
    m_roots = &root;
    ++m_stats.live_tasks;
    make_ready(root.start);
}

TaskHandle Scheduler::spawn(Task<void> task)
{
    VERIFY(task.is_valid(), "spawning an empty task");
    auto* root = new detail::TaskRoot;
    ++m_stats.tasks_spawned;
    start_root(*root, task.release());
    return TaskHandle(root);
}

void Scheduler::end_root(detail::TaskRoot& root, detail::TaskRoot::State state)
{
    root.state = state;
    root.frame = nullptr;
    --m_stats.live_tasks;
    while (detail::Waiter* w = root.joiners.pop_front())
        make_ready(*w);
    unref_root(root); // the scheduler's reference
}

void Scheduler::unref_root(detail::TaskRoot& root)
{
    VERIFY(root.references > 0);
    if (--root.references > 0)
        return;
    if (root.prev)
        root.prev->next = root.next;
    else if (m_roots == &root)
        m_roots = root.next;
    if (root.next)
        root.next->prev = root.prev;
    if (!root.keep_frame)
        delete &root;
}

void Scheduler::cancel_root(detail::TaskRoot& root)
{
    VERIFY(m_running_root != &root, "a task cannot cancel itself; return from it instead");
    root.start.detach();
    auto frame = root.frame;
    // Keep the root alive while the frames unwind: their destructors may touch it.
    ++root.references;
    if (!root.keep_frame)
        frame.destroy();
    end_root(root, detail::TaskRoot::State::cancelled);
    unref_root(root);
}

std::coroutine_handle<> detail::finish_root(TaskRoot* root, std::coroutine_handle<> frame) noexcept
{
    VERIFY(root, "a task finished that nobody awaited, spawned or ran");
    bool destroy = !root->keep_frame;
    Scheduler::current().end_root(*root, TaskRoot::State::completed); // may free root
    if (destroy)
        frame.destroy();
    return std::noop_coroutine();
}

void Scheduler::make_ready(detail::Waiter& w)
{
    m_ready.push_back(w);
}

void Scheduler::add_timer(detail::Waiter& w, Instant deadline)
{
    if (deadline == Instant::min()) {
        make_ready(w);
        return;
    }
    w.deadline = deadline;
    w.sequence = m_timer_sequence++;
    m_timers.push(w);
}

void Scheduler::wait_for_device(detail::Waiter& w, platform::Handle device)
{
    VERIFY(device < platform::max_handles);
    m_device_waiters[device].push_back(w);
}

void Scheduler::run_ready_batch()
{
    // Run what is ready now; what they make ready runs in the next batch, after the devices
    // have been polled, so that a busy task cannot starve I/O.
    detail::WaitQueue batch;
    batch.splice(m_ready);
    while (detail::Waiter* w = batch.pop_front()) {
        m_running_root = w->root;
        ++m_stats.resumes;
        w->handle.resume(); // w may be gone after this
    }
    m_running_root = nullptr;
}

void Scheduler::fire_timers(Instant now)
{
    while (!m_timers.empty() && m_timers.top().deadline <= now) {
        detail::Waiter& w = m_timers.top();
        m_timers.remove(w);
        ++m_stats.timers_fired;
        make_ready(w);
    }
}

void Scheduler::run_once()
{
    if (!m_ready.empty())
        run_ready_batch();
    if (m_awaited && m_awaited->state != detail::TaskRoot::State::scheduled)
        return; // what run() waits for is done: no need to wait for anything else

    fire_timers(MonotonicClock::now());

    platform::HandleSet interest;
    for (platform::Handle h = 0; h < platform::max_handles; ++h) {
        if (!m_device_waiters[h].empty())
            interest.add(h);
    }

    if (!m_ready.empty() && interest.empty())
        return; // nothing to poll; keep running tasks

    u64 deadline_ns;
    if (!m_ready.empty())
        deadline_ns = 0; // poll
    else if (!m_timers.empty())
        deadline_ns = u64(m_timers.top().deadline.time_since_epoch().count());
    else if (!interest.empty())
        deadline_ns = ~u64(0);
    else
        panic("deadlock: every task is waiting, and no timer or device can wake any of them", __FILE__, __LINE__);

    ++m_stats.yields;
    platform::HandleSet ready = platform::yield(deadline_ns, interest);
    ready.for_each([&](platform::Handle h) {
        while (detail::Waiter* w = m_device_waiters[h].pop_front())
            make_ready(*w);
    });
    fire_timers(MonotonicClock::now());
}

void Scheduler::run_until(detail::TaskRoot& root)
{
    detail::TaskRoot* outer = std::exchange(m_awaited, &root);
    while (root.state == detail::TaskRoot::State::scheduled)
        run_once();
    m_awaited = outer;
    // The frame is still there (keep_frame); the caller reads the result and destroys it.
    VERIFY(root.state == detail::TaskRoot::State::completed);
    unref_root(root); // run()'s reference; the root lives on the caller's stack
}

Scheduler::Stats Scheduler::stats() const
{
    Stats s = m_stats;
    s.pending_timers = m_timers.size();
    return s;
}

} // namespace sarab
