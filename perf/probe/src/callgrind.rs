//! Callgrind's client requests, as `valgrind/callgrind.h` defines them: a magic
//! instruction sequence that does nothing on a real CPU and that valgrind's
//! translator recognises. Written out here (about as long as a binding would be)
//! so the probes need neither valgrind's headers nor a C compiler to build.

/// `VG_USERREQ_TOOL_BASE('C','T')`: callgrind's requests (it was called Calltree).
const BASE: u64 = ((b'C' as u64) << 24) | ((b'T' as u64) << 16);
const START_INSTRUMENTATION: u64 = BASE + 4;
const STOP_INSTRUMENTATION: u64 = BASE + 5;

/// Counts everything every thread executes from here on.
pub fn start_instrumentation() {
    request(START_INSTRUMENTATION);
}

/// Stops counting (and makes valgrind run the rest at its fastest).
pub fn stop_instrumentation() {
    request(STOP_INSTRUMENTATION);
}

#[cfg(all(
    target_arch = "x86_64",
    any(target_os = "linux", target_os = "freebsd")
))]
fn request(code: u64) {
    let args: [u64; 6] = [code, 0, 0, 0, 0, 0];
    let mut result: u64 = 0;
    // SAFETY: valgrind.h's amd64 client request. The four rotations of rdi add up
    // to 128 bits (rdi ends as it began) and `xchg rbx, rbx` changes nothing, so
    // outside valgrind this only clobbers the flags; under valgrind rdx receives
    // the request's result, which starts as the default (0).
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") result,
            options(nostack),
        );
    }
    std::hint::black_box(result);
}

#[cfg(not(all(
    target_arch = "x86_64",
    any(target_os = "linux", target_os = "freebsd")
)))]
fn request(_code: u64) {
    // Elsewhere valgrind's request differs; the probes still run, counting nothing.
}
