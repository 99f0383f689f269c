//! The `dbshift` command; everything it does lives in the library and in `cli/`.

mod cli;

// The copier allocates a value per column per row on several threads; mimalloc's per-thread
// heaps avoid the lock traffic and fragmentation of the system allocator there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Before any connection opens: Diesel's SQLite connections are never shared between
    // threads, so SQLite's per-call mutexes are pure cost.
    #[cfg(feature = "sqlite")]
    dbshift::backend::sqlite::use_multi_thread_mode();
    cli::run()
}
