use clap::Parser;

// mimalloc: per-thread heaps without glibc's arena locks (which the many request and
// SQLite threads contend on), and it gives freed memory back, so an idle server stays small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = linli::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(linli::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linli: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
