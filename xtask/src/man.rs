//! `cargo xtask man [--check]`: the manual pages of `qonto`, generated from its clap
//! definitions (`qonto man-pages DIR`) into docs/man; `--check` (run by `ci`) fails when the
//! checked-in pages are not current.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo_bin, step};

/// The checked-in manual pages, relative to the workspace root.
const MAN_DIR: &str = "docs/man";

/// Writes the pages to docs/man, or with `--check` compares a fresh set with them.
pub(crate) fn run(args: &[String]) -> Result {
    let check = args.iter().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let checked_in = root.join(MAN_DIR);
    let target = if check {
        root.join("target").join("xtask-man")
    } else {
        checked_in.clone()
    };
    for page in pages(&target)?.keys() {
        let path = target.join(page);
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    step(
        Command::new(cargo_bin())
            .current_dir(&root)
            .args([
                "run",
                "--quiet",
                "--locked",
                "-p",
                "qonto-cli",
                "--",
                "man-pages",
            ])
            .arg(&target),
    )?;
    if !check {
        println!("man: wrote {}", checked_in.display());
        return Ok(());
    }
    let (old, new) = (pages(&checked_in)?, pages(&target)?);
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let stale: Vec<&str> = names
        .into_iter()
        .filter(|name| old.get(*name) != new.get(*name))
        .map(String::as_str)
        .collect();
    if stale.is_empty() {
        println!("man: {MAN_DIR} is current ({} pages)", new.len());
        Ok(())
    } else {
        Err(format!(
            "{MAN_DIR} is not current ({}): run `cargo xtask man` and commit the result",
            stale.join(", ")
        ))
    }
}

/// The `*.1` files of a directory, by name (none when it does not exist).
fn pages(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(BTreeMap::new());
    };
    let mut pages = BTreeMap::new();
    for entry in entries {
        let path: PathBuf = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "1") {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            pages.insert(name.into_owned(), text);
        }
    }
    Ok(pages)
}
