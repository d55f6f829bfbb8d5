use clap::Parser;

fn main() -> std::process::ExitCode {
    // Many threads (tokio's, one per SQLite connection) would each get a malloc arena
    // that keeps its memory; two arenas keep an idle server small.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
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
