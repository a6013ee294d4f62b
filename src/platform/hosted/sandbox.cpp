// The sandbox target: the hosted platform, sealed by a seccomp filter when start-up ends
// (process_seal.hpp). Until then the image is an ordinary process: it reads its arguments,
// opens its tap devices, files and store directories. From then on the kernel allows it only:
//
//   console        write and writev to stdout and stderr
//   memory         brk, mmap and mprotect without PROT_EXEC, munmap, mremap, madvise
//   time, waiting  clock_gettime, clock_getres, gettimeofday, ppoll, futex
//   entropy        getrandom
//   exit           exit_group, exit; and for a panic's report: rt_sigaction, rt_sigprocmask,
//                  getpid, gettid, tgkill to itself
//   each tap       readv and writev on its descriptor
//   each file      pread64, pwrite64, fdatasync and fsync on its descriptor
//   socket stack   (only when a net device is on it) socket(AF_INET), bind, listen, accept4,
//                  connect, getsockname, getpeername, getsockopt, setsockopt, shutdown,
//                  sendto, recvfrom, sendmmsg, recvmmsg, epoll_create1, epoll_ctl,
//                  epoll_wait, epoll_pwait
//   always         close, rt_sigreturn
//
// Nothing can be opened, executed or mapped executable, and no process can be made. Any other
// call stops the image: the filter raises SIGSYS, whose handler names the call, prints a
// backtrace and ends the process by that signal (status 159 in a shell). The filter also sets
// no_new_privs, so that nothing the image could still run gains privileges.
#include "process_seal.hpp"

#include <sarab/base/format.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <execinfo.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sarab::platform::hosted {

namespace {

[[noreturn]] void refuse_to_run(std::string_view what, int error)
{
    InlineFormatBuffer<256> line;
    format_to(line, "sandbox: cannot seal the process ({}: {}): the image does not run unsealed\n", what, std::strerror(error));
    put_error(line.view());
    std::_Exit(1);
}

// SIGSYS from the filter: a call outside what the image's devices need.
void on_refused_call(int, siginfo_t* info, void*)
{
    // The name comes from libseccomp, which allocates it. The handler ends the process, and
    // the calls that malloc makes with its lock held (brk, mmap, munmap, madvise) are all
    // allowed, so no refused call can interrupt malloc.
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, info->si_syscall);
    InlineFormatBuffer<256> line;
    format_to(line, "sandbox: the image made system call {} ({}), which the sandbox does not allow (or not with these arguments): stopped\nbacktrace:\n",
        name ? name : "?", info->si_syscall);
    put_error(line.view());
    void* frames[64];
    int n = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
    // SA_RESETHAND made SIGSYS's action the default again; raised here, it is delivered as
    // soon as this handler returns, and ends the process.
    ::raise(SIGSYS);
}

// Conditions on a call's arguments (libseccomp's SCMP_An macros leave fields to the
// compiler, which warns about them).
scmp_arg_cmp argument_equals(unsigned index, u64 value) { return scmp_arg_cmp { index, SCMP_CMP_EQ, value, 0 }; }
scmp_arg_cmp argument_lacks(unsigned index, u64 bits) { return scmp_arg_cmp { index, SCMP_CMP_MASKED_EQ, bits, 0 }; }

class Filter {
public:
    Filter()
        : m_ctx(seccomp_init(SCMP_ACT_TRAP))
    {
    }
    ~Filter()
    {
        if (m_ctx)
            seccomp_release(m_ctx);
    }
    Filter(const Filter&) = delete;
    Filter& operator=(const Filter&) = delete;

    bool valid() const { return m_ctx != nullptr; }

    // Each call allowed with no condition, or with one condition on its arguments.
    void allow(std::initializer_list<int> calls)
    {
        for (int call : calls)
            add(seccomp_rule_add(m_ctx, SCMP_ACT_ALLOW, call, 0));
    }
    void allow_if(int call, scmp_arg_cmp condition) { add(seccomp_rule_add(m_ctx, SCMP_ACT_ALLOW, call, 1, condition)); }

    // The first rule's error, or seccomp_load's: negative errno values.
    int load() { return m_error ? m_error : seccomp_load(m_ctx); }

private:
    void add(int result)
    {
        if (result < 0 && m_error == 0)
            m_error = result;
    }

    scmp_filter_ctx m_ctx;
    int m_error = 0;
};

} // namespace

bool seal_process(const OpenDevices& devices)
{
    // backtrace() loads libgcc's unwinder the first time it is called, which would need open
    // and an executable mapping: call it once now, while they are allowed.
    void* frame[1];
    ::backtrace(frame, 1);

    struct sigaction action {};
    action.sa_sigaction = on_refused_call;
    action.sa_flags = SA_SIGINFO | SA_RESETHAND;
    if (::sigaction(SIGSYS, &action, nullptr) != 0)
        refuse_to_run("SIGSYS handler", errno);

    Filter filter;
    if (!filter.valid())
        refuse_to_run("seccomp_init", ENOMEM);
    // Console: standard output and standard error only.
    for (int fd : { STDOUT_FILENO, STDERR_FILENO }) {
        filter.allow_if(SCMP_SYS(write), argument_equals(0, u64(fd)));
        filter.allow_if(SCMP_SYS(writev), argument_equals(0, u64(fd)));
    }
    // Memory, never executable.
    filter.allow_if(SCMP_SYS(mmap), argument_lacks(2, PROT_EXEC));
    filter.allow_if(SCMP_SYS(mprotect), argument_lacks(2, PROT_EXEC));
    filter.allow({ SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise) });
    // Time, waiting, entropy, the end, and a panic's report (raise, abort).
    filter.allow({ SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(ppoll), SCMP_SYS(futex),
        SCMP_SYS(getrandom), SCMP_SYS(exit_group), SCMP_SYS(exit), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
        SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(close) });
    filter.allow_if(SCMP_SYS(tgkill), argument_equals(0, u64(::getpid())));
    // The devices.
    for (int fd : devices.taps) {
        filter.allow_if(SCMP_SYS(readv), argument_equals(0, u64(fd)));
        filter.allow_if(SCMP_SYS(writev), argument_equals(0, u64(fd)));
    }
    for (int fd : devices.files) {
        for (int call : { SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(fdatasync), SCMP_SYS(fsync) })
            filter.allow_if(call, argument_equals(0, u64(fd)));
    }
    if (devices.sockets) {
        filter.allow_if(SCMP_SYS(socket), argument_equals(0, AF_INET));
        filter.allow({ SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(getsockname),
            SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(shutdown), SCMP_SYS(sendto),
            SCMP_SYS(recvfrom), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
            SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait) });
    }
    if (int error = filter.load(); error < 0)
        refuse_to_run("seccomp_load", -error);
    return true;
}

} // namespace sarab::platform::hosted
