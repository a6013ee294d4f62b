#include <sarab/runtime/scheduler.hpp>

namespace sarab {

namespace {
Scheduler* g_current = nullptr;
} // namespace

// ---- waiters and timers -------------------------------------------------------------------

void detail::Waiter::detach()
{
    if (where == Where::queued)
        link.queue->remove(*this);
    else if (where == Where::timer)
        Scheduler::current().remove_timer(*this);
}

void detail::TimerHeap::push(Waiter& w)
{
    VERIFY(!w.is_linked(), "a waiter can wait in one place at a time");
    w.where = Waiter::Where::timer;
    m_heap.push_back(&w);
    w.timer.heap_index = u32(m_heap.size() - 1);
    sift_up(m_heap.size() - 1);
}

void detail::TimerHeap::remove(Waiter& w)
{
    usize index = w.timer.heap_index;
    VERIFY(w.where == Waiter::Where::timer && index < m_heap.size() && m_heap[index] == &w);
    Waiter* last = m_heap.back();
    m_heap.pop_back();
    w.where = Waiter::Where::nowhere;
    if (last == &w)
        return;
    place(index, last);
    sift_down(index);
    sift_up(last->timer.heap_index);
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
    static u64 next_id = 1;
    m_id = next_id++;
    VERIFY(g_current == nullptr, "one scheduler at a time");
    g_current = this;
}

Scheduler::~Scheduler()
{
    // Cancel what is still alive. Cancelling one task can end others (a frame may hold the
    // only TaskHandle of another root), so hold the next root while cancelling this one.
    detail::TaskRoot* root = m_roots;
    if (root)
        ++root->references;
    while (root) {
        detail::TaskRoot* next = root->next;
        if (next)
            ++next->references;
        if (root->state == detail::TaskRoot::State::scheduled)
            cancel_root(*root);
        unref_root(*root);
        root = next;
    }
    // Roots that never started are still on the start list, which holds a reference.
    while (detail::TaskRoot* r = m_start_head) {
        m_start_head = r->next_start;
        unref_root(*r);
    }
    VERIFY(m_roots == nullptr, "a TaskHandle outlives its scheduler");
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
    root.next = m_roots;
    if (m_roots)
        m_roots->prev = &root;
    m_roots = &root;
    ++m_stats.live_tasks;
    // The start list holds a reference until the task has been started (or skipped).
    ++root.references;
    root.next_start = nullptr;
    if (m_start_tail)
        m_start_tail->next_start = &root;
    else
        m_start_head = &root;
    m_start_tail = &root;
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

void Scheduler::add_timer(detail::Waiter& w)
{
    if (w.timer.deadline_ns == Instant::min().time_since_epoch().count()) {
        make_ready(w);
        return;
    }
    w.timer.sequence = m_timer_sequence++;
    m_timers.push(w);
}

void Scheduler::wait_for_device(detail::Waiter& w, platform::Handle device)
{
    VERIFY(device < platform::max_handles);
    m_device_waiters[device].push_back(w);
    m_interest.add(device);
}

// The devices that have waiters. m_interest is kept as waiters come, but not as cancelled
// ones leave, so check the (few) candidates rather than scanning every queue.
platform::HandleSet Scheduler::interest()
{
    platform::HandleSet candidates = m_interest;
    candidates.for_each([&](platform::Handle h) {
        if (m_device_waiters[h].empty())
            m_interest.remove(h);
    });
    return m_interest;
}

void Scheduler::run_ready_batch()
{
    // Run what is ready now: first the tasks spawned since the last turn, in order, then the
    // waiters that woke. What they spawn or wake runs in the next batch, after the devices
    // have been polled, so that a busy task cannot starve I/O.
    detail::TaskRoot* starting = std::exchange(m_start_head, nullptr);
    m_start_tail = nullptr;
    detail::WaitQueue batch;
    batch.splice(m_ready);
    while (detail::TaskRoot* root = starting) {
        starting = root->next_start;
        if (root->state == detail::TaskRoot::State::scheduled) {
            m_running_root = root;
            ++m_stats.resumes;
            root->frame.resume();
        }
        unref_root(*root); // the start list's reference
    }
    while (detail::Waiter* w = batch.pop_front()) {
        m_running_root = w->root;
        ++m_stats.resumes;
        w->handle.resume(); // w may be gone after this
    }
    m_running_root = nullptr;
}

void Scheduler::fire_timers(Instant now)
{
    i64 now_ns = now.time_since_epoch().count();
    while (!m_timers.empty() && m_timers.top().timer.deadline_ns <= now_ns) {
        detail::Waiter& w = m_timers.top();
        m_timers.remove(w);
        ++m_stats.timers_fired;
        make_ready(w);
    }
}

void Scheduler::run_once()
{
    if (!m_ready.empty() || m_start_head)
        run_ready_batch();
    if (m_awaited && m_awaited->state != detail::TaskRoot::State::scheduled)
        return; // what run() waits for is done: no need to wait for anything else

    // The clock is read only when a timer could be due.
    if (!m_timers.empty())
        fire_timers(MonotonicClock::now());

    platform::HandleSet interest = this->interest();
    bool runnable = !m_ready.empty() || m_start_head;
    u64 quiet_until = 0;
    if (m_quiet_until_ns) {
        if (platform::monotonic_ns() < m_quiet_until_ns) {
            if (runnable)
                return; // the devices wait: run the tasks
            quiet_until = m_quiet_until_ns;
        } else {
            m_quiet_until_ns = 0;
        }
    }

    if (runnable && interest.empty())
        return; // nothing to poll; keep running tasks
    if (runnable && ++m_turns_since_yield < poll_every_turns
        && platform::monotonic_ns() - m_last_yield_ns < poll_every_ns)
        return; // the devices were polled a moment ago: a poll now would most likely find nothing

    u64 deadline_ns;
    if (quiet_until) {
        // Sleep without watching any device until the quiet period or the next timer ends.
        deadline_ns = quiet_until;
        if (!m_timers.empty() && u64(m_timers.top().timer.deadline_ns) < deadline_ns)
            deadline_ns = u64(m_timers.top().timer.deadline_ns);
        ++m_stats.quiet_yields;
        interest = {};
    } else if (runnable)
        deadline_ns = 0; // poll
    else if (!m_timers.empty())
        deadline_ns = u64(m_timers.top().timer.deadline_ns);
    else if (!interest.empty())
        deadline_ns = ~u64(0);
    else
        panic("deadlock: every task is waiting, and no timer or device can wake any of them", __FILE__, __LINE__);

    ++m_stats.yields;
    platform::HandleSet ready = platform::yield(deadline_ns, interest);
    // One clock reading after the wait serves both the poll pacing and the timers.
    m_turns_since_yield = 0;
    m_last_yield_ns = platform::monotonic_ns();
    ready.for_each([&](platform::Handle h) {
        while (detail::Waiter* w = m_device_waiters[h].pop_front())
            make_ready(*w);
        m_interest.remove(h);
    });
    if (!m_timers.empty())
        fire_timers(Instant(Duration(i64(m_last_yield_ns))));
}

void Scheduler::moderate_devices(Duration quiet)
{
    u64 until = platform::monotonic_ns() + u64(quiet.count());
    if (until > m_quiet_until_ns)
        m_quiet_until_ns = until;
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
