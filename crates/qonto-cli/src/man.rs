//! Manual pages, generated from the command-line definition (`qonto man-pages DIR`, run by
//! `cargo xtask man`, which checks in docs/man/).

use std::path::Path;

use qonto_auth_core::Code;

use crate::failure::Failure;

/// The manual pages, as `man` names them: `qonto`, `qonto-auth`, `qonto-auth-login`, …
pub(crate) fn page_names(command: &clap::Command) -> Vec<String> {
    fn walk(command: &clap::Command, name: String, names: &mut Vec<String>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() != "help" {
                walk(sub, format!("{name}-{}", sub.get_name()), names);
            }
        }
        names.push(name);
    }
    let mut names = Vec::new();
    walk(command, command.get_name().to_owned(), &mut names);
    names.sort();
    names
}

/// Writes one roff page per command into `dir`.
pub(crate) fn write_pages(dir: &Path) -> Result<(), Failure> {
    let failed = |e: std::io::Error| {
        Failure::configuration(
            Code::OutputUnwritable,
            format!("cannot write the manual pages to {}: {e}", dir.display()),
            "pick a directory you can write to",
        )
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(crate::cli::command(), dir).map_err(failed)
}
