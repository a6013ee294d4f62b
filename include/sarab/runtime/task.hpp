// Task<T>: a lazy, move-only coroutine that produces a T.
//
// A Task does nothing until it is awaited (or spawned, or run by the scheduler); awaiting it
// runs it to completion and gives its co_return value. Errors are values: a fallible task
// returns Task<ErrorOr<T, E>>. Destroying a Task destroys its frame, and so cancels it and
// everything it is waiting for.
#pragma once

#include <sarab/base/verify.hpp>
#include <sarab/runtime/waiter.hpp>

#include <coroutine>
#include <optional>
#include <utility>

namespace sarab {

template<class T = void>
class Task;

namespace detail {

// Coroutine frames come from size-class free lists: spawning and finishing a task in the
// steady state does not reach the general heap.
void* allocate_frame(usize size);
void free_frame(void* frame, usize size);

struct FrameStats {
    u64 allocated = 0;
    u64 freed = 0;
    u64 live() const { return allocated - freed; }
};
FrameStats frame_stats();

struct PromiseBase {
    static void* operator new(usize size) { return allocate_frame(size); }
    static void operator delete(void* frame, usize size) { free_frame(frame, size); }

    std::suspend_always initial_suspend() noexcept { return {}; }
    void unhandled_exception() { VERIFY_NOT_REACHED(); }

    // Whom to resume when this coroutine finishes; null for the top frame of a task.
    std::coroutine_handle<> continuation;
    // The spawned task this frame belongs to.
    TaskRoot* root = nullptr;
};

// A top frame has no continuation: its task root decides what happens to it.
std::coroutine_handle<> finish_root(TaskRoot*, std::coroutine_handle<> frame) noexcept;

struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template<class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept
    {
        PromiseBase& p = h.promise();
        if (p.continuation)
            return p.continuation;
        return finish_root(p.root, h);
    }
    void await_resume() noexcept { }
};

template<class T>
struct Promise : PromiseBase {
    Task<T> get_return_object() noexcept;
    FinalAwaiter final_suspend() noexcept { return {}; }
    template<class U>
        requires std::is_constructible_v<T, U&&>
    void return_value(U&& value)
    {
        result.emplace(std::forward<U>(value));
    }
    T take_result()
    {
        VERIFY(result.has_value(), "task finished without a value");
        return std::move(*result);
    }
    std::optional<T> result;
};

template<>
struct Promise<void> : PromiseBase {
    Task<void> get_return_object() noexcept;
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() { }
    void take_result() { }
};

// Awaiters take the awaiting coroutine's promise to learn which task is waiting.
template<class P>
concept SarabPromise = std::is_base_of_v<PromiseBase, P>;

template<class T>
struct TaskAwaiter {
    std::coroutine_handle<Promise<T>> child;
    bool await_ready() noexcept { return false; }
    template<SarabPromise P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept
    {
        child.promise().continuation = parent;
        child.promise().root = parent.promise().root;
        return child;
    }
    T await_resume() { return child.promise().take_result(); }
};

} // namespace detail

template<class T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::Promise<T>;
    using value_type = T;
    using Handle = std::coroutine_handle<promise_type>;

    Task() = default;
    explicit Task(Handle h)
        : m_handle(h)
    {
    }
    Task(Task&& other) noexcept
        : m_handle(std::exchange(other.m_handle, nullptr))
    {
    }
    Task& operator=(Task&& other) noexcept
    {
        if (this != &other) {
            destroy();
            m_handle = std::exchange(other.m_handle, nullptr);
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { destroy(); }

    bool is_valid() const { return m_handle != nullptr; }
    bool is_done() const { return m_handle && m_handle.done(); }

    detail::TaskAwaiter<T> operator co_await() && noexcept
    {
        VERIFY(m_handle, "awaiting an empty task");
        return detail::TaskAwaiter<T> { m_handle };
    }

    // For the scheduler and combinators: hand over the frame.
    Handle release() { return std::exchange(m_handle, nullptr); }
    Handle handle() const { return m_handle; }

private:
    void destroy()
    {
        if (m_handle)
            std::exchange(m_handle, nullptr).destroy();
    }

    Handle m_handle;
};

namespace detail {

template<class T>
Task<T> Promise<T>::get_return_object() noexcept
{
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept
{
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

} // namespace detail

} // namespace sarab
