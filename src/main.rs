//! The `dbshift` command; everything it does lives in the library and in `cli/`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
