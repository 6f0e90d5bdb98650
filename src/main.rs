//! The `careplan-relay` binary: parse the command line and hand over to the library.

fn main() -> std::process::ExitCode {
    careplan_relay::cli::main()
}
