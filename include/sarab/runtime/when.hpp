// Running tasks side by side: when_all waits for every task, when_any for the first one
// (and cancels the rest), with_timeout bounds a task in time.
//
// Each task runs in a branch: a small coroutine owned by the awaiting task's frame. If the
// awaiting task is cancelled, its frame goes, and with it every branch and what the branch
// was waiting for.
#pragma once

#include <sarab/runtime/scheduler.hpp>

#include <array>
#include <optional>
#include <tuple>
#include <variant>
#include <vector>

namespace sarab {

// What a Task<void> gives in a tuple or variant.
struct Void {
    bool operator==(const Void&) const = default;
};

template<class T>
using Stored = std::conditional_t<std::is_void_v<T>, Void, T>;

namespace detail {

struct WhenState {
    Waiter parent;
    usize remaining = 0;
    usize winner = ~usize(0);
    bool first_only = false;
    bool fired = false;

    void branch_done(usize index)
    {
        --remaining;
        if (!fired && (first_only || remaining == 0)) {
            fired = true;
            winner = index;
            Scheduler::current().make_ready(parent);
        }
    }
};

struct BranchPromise;

class Branch {
public:
    using promise_type = BranchPromise;
    using Handle = std::coroutine_handle<BranchPromise>;
    Branch() = default;
    explicit Branch(Handle h)
        : m_handle(h)
    {
    }
    Branch(Branch&& o) noexcept
        : m_handle(std::exchange(o.m_handle, nullptr))
    {
    }
    Branch& operator=(Branch&& o) noexcept
    {
        std::swap(m_handle, o.m_handle);
        return *this;
    }
    ~Branch()
    {
        if (m_handle)
            m_handle.destroy();
    }
    void start(WhenState& state, usize index, TaskRoot* root);

private:
    Handle m_handle;
};

struct BranchPromise : PromiseBase {
    WhenState* state = nullptr;
    usize index = 0;
    Waiter start;

    Branch get_return_object() noexcept { return Branch(std::coroutine_handle<BranchPromise>::from_promise(*this)); }
    auto final_suspend() noexcept
    {
        struct Final {
            bool await_ready() noexcept { return false; }
            void await_suspend(std::coroutine_handle<BranchPromise> h) noexcept
            {
                h.promise().state->branch_done(h.promise().index);
            }
            void await_resume() noexcept { }
        };
        return Final {};
    }
    void return_void() { }
};

inline void Branch::start(WhenState& state, usize index, TaskRoot* root)
{
    BranchPromise& p = m_handle.promise();
    p.state = &state;
    p.index = index;
    p.root = root;
    p.start.handle = m_handle;
    p.start.root = root;
    Scheduler::current().make_ready(p.start);
}

template<class T>
Branch make_branch(Task<T> task, std::optional<Stored<T>>& slot)
{
    if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        slot.emplace();
    } else {
        slot.emplace(co_await std::move(task));
    }
}

template<bool FirstOnly, class... Ts>
class WhenTuple {
public:
    static constexpr usize count = sizeof...(Ts);

    explicit WhenTuple(Task<Ts>... tasks)
        : m_tasks(std::move(tasks)...)
    {
    }
    WhenTuple(const WhenTuple&) = delete;

    bool await_ready() const noexcept { return false; }

    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        m_state.parent.handle = h;
        m_state.parent.root = h.promise().root;
        m_state.remaining = count;
        m_state.first_only = FirstOnly;
        start_all(h.promise().root, std::index_sequence_for<Ts...> {});
    }

    auto await_resume()
    {
        if constexpr (FirstOnly) {
            m_branches = {}; // the losers are cancelled here
            return take_winner(std::index_sequence_for<Ts...> {});
        } else {
            return std::apply([](auto&... slot) { return std::tuple<Stored<Ts>...>(std::move(*slot)...); }, m_results);
        }
    }

private:
    template<usize... I>
    void start_all(TaskRoot* root, std::index_sequence<I...>)
    {
        ((m_branches[I] = make_branch<Ts>(std::move(std::get<I>(m_tasks)), std::get<I>(m_results))), ...);
        for (usize i = 0; i < count; ++i)
            m_branches[i].start(m_state, i, root);
    }

    template<usize... I>
    std::variant<Stored<Ts>...> take_winner(std::index_sequence<I...>)
    {
        std::optional<std::variant<Stored<Ts>...>> out;
        ((m_state.winner == I ? (void)out.emplace(std::in_place_index<I>, std::move(*std::get<I>(m_results))) : (void)0), ...);
        VERIFY(out.has_value());
        return std::move(*out);
    }

    std::tuple<Task<Ts>...> m_tasks;
    std::tuple<std::optional<Stored<Ts>>...> m_results;
    WhenState m_state;
    std::array<Branch, count> m_branches; // destroyed first: branches point at the rest
};

template<bool FirstOnly, class T>
class WhenVector {
public:
    explicit WhenVector(std::vector<Task<T>> tasks)
        : m_tasks(std::move(tasks))
        , m_results(m_tasks.size())
    {
    }
    WhenVector(const WhenVector&) = delete;

    bool await_ready() const noexcept { return m_tasks.empty(); }

    template<SarabPromise P>
    void await_suspend(std::coroutine_handle<P> h)
    {
        m_state.parent.handle = h;
        m_state.parent.root = h.promise().root;
        m_state.remaining = m_tasks.size();
        m_state.first_only = FirstOnly;
        m_branches.reserve(m_tasks.size());
        for (usize i = 0; i < m_tasks.size(); ++i)
            m_branches.push_back(make_branch<T>(std::move(m_tasks[i]), m_results[i]));
        for (usize i = 0; i < m_branches.size(); ++i)
            m_branches[i].start(m_state, i, h.promise().root);
    }

    auto await_resume()
    {
        if constexpr (FirstOnly) {
            VERIFY(!m_tasks.empty(), "when_any of no tasks");
            m_branches.clear();
            return std::pair<usize, Stored<T>>(m_state.winner, std::move(*m_results[m_state.winner]));
        } else {
            std::vector<Stored<T>> out;
            out.reserve(m_results.size());
            for (auto& slot : m_results)
                out.push_back(std::move(*slot));
            return out;
        }
    }

private:
    std::vector<Task<T>> m_tasks;
    std::vector<std::optional<Stored<T>>> m_results;
    WhenState m_state;
    std::vector<Branch> m_branches;
};

inline Task<void> sleep_task(Duration d)
{
    co_await sleep_for(d);
}

} // namespace detail

// co_await when_all(a(), b()) -> std::tuple<A, B> (Void for a Task<void>), once all are done.
template<class... Ts>
detail::WhenTuple<false, Ts...> when_all(Task<Ts>... tasks)
{
    return detail::WhenTuple<false, Ts...>(std::move(tasks)...);
}

// co_await when_any(a(), b()) -> std::variant<A, B>: the first to finish; the others are
// cancelled. index() says which one won.
template<class... Ts>
detail::WhenTuple<true, Ts...> when_any(Task<Ts>... tasks)
{
    return detail::WhenTuple<true, Ts...>(std::move(tasks)...);
}

// The same for any number of tasks of one type: a vector of results, or (index, result).
template<class T>
detail::WhenVector<false, T> when_all(std::vector<Task<T>> tasks)
{
    return detail::WhenVector<false, T>(std::move(tasks));
}

template<class T>
detail::WhenVector<true, T> when_any(std::vector<Task<T>> tasks)
{
    return detail::WhenVector<true, T>(std::move(tasks));
}

// Runs `task` for at most `limit`: its value, or Errc::timed_out after cancelling it.
template<class T>
Task<ErrorOr<T>> with_timeout(Duration limit, Task<T> task)
{
    auto outcome = co_await when_any(std::move(task), detail::sleep_task(limit));
    if (outcome.index() == 1)
        co_return failure(Errc::timed_out);
    if constexpr (std::is_void_v<T>)
        co_return ErrorOr<void>();
    else
        co_return std::move(std::get<0>(outcome));
}

} // namespace sarab
