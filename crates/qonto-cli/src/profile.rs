//! `qonto profile list|show|add|remove|migrate`: the profiles of config.toml, and where their
//! secrets and tokens are kept. No secret value is ever printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qonto_auth_core::Code;
use qonto_store::{FileStore, TokenStore, safe_fs};
use serde_json::{Value, json};
use toml_edit::{DocumentMut, Item, Table};

use crate::cli::{Global, Output, ProfileCommand};
use crate::failure::Failure;
use crate::keychain::{self, BACKEND, Keychain, KeychainStore};
use crate::output::{one_line, print_json};
use crate::secret::Secret;
use crate::settings::{
    self, PROFILE_SECRETS, Profile, SecretSource, StorageSetting, TokenLocation,
    check_profile_name, keychain_unavailable, read_dash,
};

/// Runs a `qonto profile` command.
pub(crate) fn run(global: &Global, command: &ProfileCommand) -> Result<(), Failure> {
    let dir = settings::config_dir(global);
    let selected = settings::profile_name(global);
    match command {
        ProfileCommand::List => list(&dir, &selected, global.output),
        ProfileCommand::Show { name } => {
            show(&dir, name.as_deref().unwrap_or(&selected), global.output)
        }
        ProfileCommand::Add { name } => add(&dir, name, global),
        ProfileCommand::Remove { name } => remove(&dir, name, global.output),
        ProfileCommand::Migrate { name } => {
            migrate(&dir, name.as_deref().unwrap_or(&selected), global.output)
        }
    }
}

/// A secret's source in words: `OS keychain (linux-keyutils)`.
pub(crate) fn describe_source(source: SecretSource) -> String {
    match source {
        SecretSource::Keychain => format!("OS keychain ({BACKEND})"),
        SecretSource::ConfigFile => "config.toml (insecure storage)".into(),
        SecretSource::Environment => "environment variable".into(),
        SecretSource::Flag => "command-line flag".into(),
    }
}

/// The keychain of `dir` when the profile keeps its secrets there and one is available.
fn keychain_for(dir: &Path, profile: &Profile) -> Option<Result<Keychain, String>> {
    (profile.storage() == StorageSetting::Keychain)
        .then(|| Keychain::open(dir).map_err(|e| e.to_string()))
}

/// Whether the keychain holds an entry (its value is dropped, and wiped, at once).
fn has_entry(keychain: &Keychain, account: &str) -> Result<bool, String> {
    keychain
        .get(account)
        .map(|v| v.is_some())
        .map_err(|e| e.to_string())
}

fn list(dir: &Path, selected: &str, output: Output) -> Result<(), Failure> {
    let config = settings::load_config(dir)?.unwrap_or_default();
    let rows: Vec<Value> = config
        .profiles
        .iter()
        .map(|(name, profile)| {
            let plain = profile.plain();
            let value = |key: &str| plain.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v);
            let method = if value("client_id").is_some() {
                "oauth"
            } else if value("login").is_some() || profile.secret("api_key").is_some() {
                "api_key"
            } else {
                match keychain_for(dir, profile) {
                    Some(Ok(keychain))
                        if has_entry(&keychain, &keychain::secret_account(name, "api_key"))
                            .unwrap_or(false) =>
                    {
                        "api_key"
                    }
                    _ => "none",
                }
            };
            json!({
                "name": name,
                "selected": name == selected,
                "env": value("env").unwrap_or("production"),
                "method": method,
                "storage": storage_str(profile.storage()),
            })
        })
        .collect();
    match output {
        Output::Json => print_json(&json!(rows)),
        Output::Text => {
            let mut out = anstream::stdout();
            if rows.is_empty() {
                let _ = writeln!(
                    out,
                    "no profiles in {}; add one with `qonto profile add NAME`",
                    dir.join("config.toml").display()
                );
            } else {
                let _ = writeln!(
                    out,
                    "  {:<24} {:<11} {:<8} STORAGE",
                    "NAME", "ENV", "METHOD"
                );
            }
            for row in &rows {
                let text = |key: &str| one_line(row[key].as_str().unwrap_or("-"));
                let mark = if row["selected"] == true { '*' } else { ' ' };
                let _ = writeln!(
                    out,
                    "{mark} {:<24} {:<11} {:<8} {}",
                    text("name"),
                    text("env"),
                    text("method"),
                    text("storage")
                );
            }
        }
    }
    Ok(())
}

fn storage_str(storage: StorageSetting) -> &'static str {
    match storage {
        StorageSetting::Keychain => "keychain",
        StorageSetting::File => "file",
    }
}

fn not_found(dir: &Path, name: &str) -> Failure {
    Failure::configuration(
        Code::ProfileNotFound,
        format!(
            "no profile `{}` in {}",
            one_line(name),
            dir.join("config.toml").display()
        ),
        "see `qonto profile list`, or add it with `qonto profile add NAME`",
    )
}

fn show(dir: &Path, name: &str, output: Output) -> Result<(), Failure> {
    check_profile_name(name)?;
    let config = settings::load_config(dir)?.unwrap_or_default();
    let profile = match config.profiles.get(name) {
        Some(profile) => profile.clone(),
        None if name == "default" => Profile::default(),
        None => return Err(not_found(dir, name)),
    };
    let keychain = keychain_for(dir, &profile);
    let mut secrets = serde_json::Map::new();
    for secret in PROFILE_SECRETS {
        let state = if profile.secret(secret).is_some() {
            json!({"set": true, "stored_in": "config_file"})
        } else {
            match &keychain {
                None => json!({"set": false, "stored_in": null}),
                Some(Err(reason)) => {
                    json!({"set": null, "stored_in": "keychain", "problem": reason})
                }
                Some(Ok(keychain)) => {
                    match has_entry(keychain, &keychain::secret_account(name, secret)) {
                        Ok(true) => json!({"set": true, "stored_in": "keychain"}),
                        Ok(false) => json!({"set": false, "stored_in": null}),
                        Err(reason) => {
                            json!({"set": null, "stored_in": "keychain", "problem": reason})
                        }
                    }
                }
            }
        };
        secrets.insert(secret.to_owned(), state);
    }
    let insecure = profile.storage() == StorageSetting::File;
    let tokens = match settings::token_location(dir, name, insecure) {
        Ok(location) => {
            let stored = store_of(dir, name, &location).load().map(|t| t.is_some());
            json!({
                "stored": stored.as_ref().ok(),
                "stored_in": match &location {
                    TokenLocation::Keychain(_) => "keychain",
                    TokenLocation::File { .. } => "file",
                },
                "where": crate::auth::describe_location(&location),
                "problem": stored.err().map(|e| e.to_string()),
            })
        }
        Err(failure) => {
            json!({"stored": null, "stored_in": "keychain", "problem": failure.0.message})
        }
    };
    let settings: serde_json::Map<String, Value> = profile
        .plain()
        .iter()
        .filter_map(|(key, value)| value.map(|v| ((*key).to_owned(), json!(v))))
        .collect();
    let report = json!({
        "name": name,
        "in_config_file": config.profiles.contains_key(name),
        "storage": storage_str(profile.storage()),
        "keychain_backend": BACKEND,
        "settings": settings,
        "secrets": secrets,
        "tokens": tokens,
    });
    match output {
        Output::Json => print_json(&report),
        Output::Text => write_show(&report),
    }
    Ok(())
}

fn write_show(report: &Value) {
    let mut out = anstream::stdout();
    let text = |v: &Value| one_line(v.as_str().unwrap_or("-"));
    let _ = writeln!(out, "profile: {}", text(&report["name"]));
    let storage = match report["storage"].as_str() {
        Some("file") => "files (insecure storage: config.toml and tokens/PROFILE.json)".into(),
        _ => format!("OS keychain ({BACKEND})"),
    };
    let _ = writeln!(out, "storage: {storage}");
    if let Some(settings) = report["settings"].as_object() {
        for (key, value) in settings {
            let _ = writeln!(out, "{key}: {}", text(value));
        }
    }
    if let Some(secrets) = report["secrets"].as_object() {
        for (key, state) in secrets {
            let place = match (state["set"].as_bool(), state["stored_in"].as_str()) {
                (Some(true), Some("keychain")) => describe_source(SecretSource::Keychain),
                (Some(true), _) => describe_source(SecretSource::ConfigFile),
                (Some(false), _) => "not set".into(),
                (None, _) => format!(
                    "unknown ({})",
                    text(&state["problem"]).trim_end_matches('.')
                ),
            };
            let _ = writeln!(out, "{}: {place}", key.replace('_', " "));
        }
    }
    let tokens = &report["tokens"];
    let line = match tokens["stored"].as_bool() {
        Some(true) => format!("stored in the {}", text(&tokens["where"])),
        Some(false) => "none (run `qonto auth login`)".into(),
        None => format!("unknown ({})", text(&tokens["problem"])),
    };
    let _ = writeln!(out, "oauth tokens: {line}");
}

/// The token store at a location.
fn store_of(dir: &Path, name: &str, location: &TokenLocation) -> Box<dyn TokenStore> {
    match location {
        TokenLocation::File { path, .. } => Box::new(FileStore::new(path)),
        TokenLocation::Keychain(keychain) => {
            Box::new(KeychainStore::new(keychain.clone(), dir, name))
        }
    }
}

fn add(dir: &Path, name: &str, global: &Global) -> Result<(), Failure> {
    check_profile_name(name)?;
    let insecure = global.insecure_storage;
    let plain: Vec<(&str, String)> = [
        (
            "env",
            global.env.map(|e| match e {
                crate::cli::EnvArg::Production => "production".to_owned(),
                crate::cli::EnvArg::Sandbox => "sandbox".to_owned(),
            }),
        ),
        ("login", global.login.clone()),
        ("client_id", global.client_id.clone()),
        ("redirect_uri", global.redirect_uri.clone()),
        ("api_base_url", global.base_url.clone()),
        ("oauth_base_url", global.oauth_base_url.clone()),
        ("organization_id", global.organization_id.clone()),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key, v)))
    .collect();
    let mut secrets: Vec<(&str, Secret)> = Vec::new();
    for secret in PROFILE_SECRETS {
        if let Some(value) = global.secret(secret).0 {
            secrets.push((secret, read_dash(value.clone())?));
        }
    }
    if plain.is_empty() && secrets.is_empty() {
        return Err(Failure::configuration(
            Code::NoCredentials,
            format!("nothing to store in profile `{name}`"),
            "give its settings as flags or QONTO_* variables, such as \
             `qonto profile add NAME --client-id ID --client-secret -`",
        ));
    }
    let keychain = if insecure || secrets.is_empty() {
        None
    } else {
        Some(Keychain::open(dir).map_err(|e| keychain_unavailable(name, &e))?)
    };
    let _lock = lock_config(dir)?;
    let mut doc = read_document(dir)?;
    if profile_table(&mut doc, name).is_some() {
        return Err(Failure::configuration(
            Code::ProfileExists,
            format!("profile `{name}` already exists"),
            "remove it first (`qonto profile remove NAME`), or pick another name",
        ));
    }
    if let Some(keychain) = &keychain {
        for (secret, value) in &secrets {
            keychain
                .set(&keychain::secret_account(name, secret), value.expose())
                .map_err(|e| keychain_unavailable(name, &e))?;
        }
    }
    let profiles = doc
        .entry("profiles")
        .or_insert_with(|| Item::Table(implicit_table()))
        .as_table_mut()
        .ok_or_else(|| not_a_table(dir))?;
    let mut table = Table::new();
    for (key, value) in &plain {
        table.insert(key, toml_edit::value(value.as_str()));
    }
    if insecure {
        table.insert("storage", toml_edit::value("file"));
        for (secret, value) in &secrets {
            table.insert(secret, toml_edit::value(value.expose()));
        }
    }
    profiles.insert(name, Item::Table(table));
    write_document(dir, &doc)?;
    let where_secrets = if insecure { "config_file" } else { "keychain" };
    let report = json!({
        "event": "profile_added",
        "profile": name,
        "settings": plain.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        "secrets": secrets.iter().map(|(k, _)| ((*k).to_owned(), json!(where_secrets))).collect::<serde_json::Map<_, _>>(),
        "storage": if insecure { "file" } else { "keychain" },
    });
    if insecure && !secrets.is_empty() {
        warn_insecure(name, &dir.join("config.toml"));
    }
    match output_of(global) {
        Output::Json => print_json(&report),
        Output::Text => {
            let mut out = anstream::stdout();
            let names = |items: Vec<&str>| {
                if items.is_empty() {
                    "none".to_owned()
                } else {
                    items.join(", ")
                }
            };
            let _ = writeln!(
                out,
                "added profile {name}\nsettings in config.toml: {}\nsecrets in {}: {}",
                names(plain.iter().map(|(k, _)| *k).collect()),
                if insecure {
                    "config.toml (insecure storage)".to_owned()
                } else {
                    format!("the OS keychain ({BACKEND})")
                },
                names(secrets.iter().map(|(k, _)| *k).collect())
            );
        }
    }
    Ok(())
}

fn output_of(global: &Global) -> Output {
    global.output
}

/// Said once, when secrets first go to a file.
fn warn_insecure(name: &str, path: &Path) {
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "warning: the secrets of profile `{name}` are stored in {} (readable only by you) rather \
         than the OS keychain, as --insecure-storage asked; `qonto profile migrate {name}` moves \
         them to the keychain",
        path.display()
    );
}

fn remove(dir: &Path, name: &str, output: Output) -> Result<(), Failure> {
    check_profile_name(name)?;
    let _lock = lock_config(dir)?;
    let mut doc = read_document(dir)?;
    let had_table = doc
        .get_mut("profiles")
        .and_then(Item::as_table_mut)
        .and_then(|profiles| profiles.remove(name))
        .is_some();
    let token_file = settings::token_path(dir, name);
    let had_file = std::fs::symlink_metadata(&token_file).is_ok();
    let mut keychain_entries = Vec::new();
    let mut keychain_problem = None;
    match Keychain::open(dir) {
        Ok(keychain) => {
            let items = PROFILE_SECRETS.iter().copied().chain(["tokens"]);
            for item in items {
                match keychain.delete(&keychain::secret_account(name, item)) {
                    Ok(true) => keychain_entries.push(item),
                    Ok(false) => {}
                    Err(e) => keychain_problem = Some(e.to_string()),
                }
            }
        }
        Err(e) => keychain_problem = Some(e.to_string()),
    }
    if !had_table && !had_file && keychain_entries.is_empty() {
        return Err(not_found(dir, name));
    }
    if had_table {
        write_document(dir, &doc)?;
    }
    for path in [
        token_file,
        dir.join("tokens").join(format!("{name}.json.lock")),
        dir.join("tokens").join(format!("{name}.keychain.lock")),
    ] {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Failure::configuration(
                    Code::TokenStoreError,
                    format!("cannot remove {}: {e}", path.display()),
                    "remove it by hand",
                ));
            }
            _ => {}
        }
    }
    match output {
        Output::Json => print_json(&json!({
            "event": "profile_removed",
            "profile": name,
            "config_table_removed": had_table,
            "keychain_entries_removed": keychain_entries,
            "token_file_removed": had_file,
            "keychain_problem": keychain_problem,
        })),
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(
                out,
                "removed profile {name}: config.toml table {}, keychain entries: {}, token file {}",
                if had_table { "removed" } else { "absent" },
                if keychain_entries.is_empty() {
                    "none".to_owned()
                } else {
                    keychain_entries.join(", ")
                },
                if had_file { "removed" } else { "absent" },
            );
            if let Some(problem) = keychain_problem {
                let _ = writeln!(out, "note: the keychain could not be cleaned: {problem}");
            }
        }
    }
    Ok(())
}

fn migrate(dir: &Path, name: &str, output: Output) -> Result<(), Failure> {
    check_profile_name(name)?;
    let keychain = Keychain::open(dir).map_err(|e| keychain_unavailable(name, &e))?;
    let _lock = lock_config(dir)?;
    let mut doc = read_document(dir)?;
    let token_file = settings::token_path(dir, name);
    let has_file = std::fs::symlink_metadata(&token_file).is_ok();
    let Some(table) = profile_table(&mut doc, name) else {
        if !has_file {
            return Err(not_found(dir, name));
        }
        let tokens = migrate_tokens(&keychain, dir, name, &token_file)?;
        return report_migration(output, name, &[], tokens);
    };
    let mut moved = Vec::new();
    for secret in PROFILE_SECRETS {
        let Some(value) = table.get(secret).and_then(Item::as_str) else {
            continue;
        };
        let value = Secret::new(value.to_owned());
        keychain
            .set(&keychain::secret_account(name, secret), value.expose())
            .map_err(|e| keychain_unavailable(name, &e))?;
        moved.push(secret);
    }
    let was_file = table.get("storage").and_then(Item::as_str) == Some("file");
    for secret in &moved {
        table.remove(secret);
    }
    table.remove("storage");
    if !moved.is_empty() || was_file {
        write_document(dir, &doc)?;
    }
    let tokens = if has_file {
        migrate_tokens(&keychain, dir, name, &token_file)?
    } else {
        false
    };
    report_migration(output, name, &moved, tokens)
}

/// Moves the token file into the keychain under both stores' locks, then deletes the file.
fn migrate_tokens(
    keychain: &Keychain,
    dir: &Path,
    name: &str,
    path: &Path,
) -> Result<bool, Failure> {
    let store_failure = |e: qonto_store::StoreError| {
        Failure::configuration(
            Code::TokenStoreUnreadable,
            e.to_string(),
            "fix or remove the token file (`qonto auth logout --local-only --insecure-storage`), then log in again",
        )
    };
    let file = FileStore::new(path);
    let target = KeychainStore::new(keychain.clone(), dir, name);
    let mut file_guard = file.lock().map_err(store_failure)?;
    let mut keychain_guard = target.lock().map_err(store_failure)?;
    let moved = match file_guard.load().map_err(store_failure)? {
        Some(tokens) => {
            keychain_guard.save(&tokens).map_err(store_failure)?;
            true
        }
        None => false,
    };
    file_guard.clear().map_err(store_failure)?;
    Ok(moved)
}

fn report_migration(
    output: Output,
    name: &str,
    secrets: &[&str],
    tokens: bool,
) -> Result<(), Failure> {
    match output {
        Output::Json => print_json(&json!({
            "event": "profile_migrated",
            "profile": name,
            "keychain_backend": BACKEND,
            "secrets_moved": secrets,
            "tokens_moved": tokens,
        })),
        Output::Text => {
            let mut out = anstream::stdout();
            let moved: Vec<&str> = secrets
                .iter()
                .copied()
                .chain(tokens.then_some("oauth tokens"))
                .collect();
            if moved.is_empty() {
                let _ = writeln!(
                    out,
                    "profile {name}: nothing in files to move; it now uses the OS keychain ({BACKEND})"
                );
            } else {
                let _ = writeln!(
                    out,
                    "profile {name}: moved {} to the OS keychain ({BACKEND})",
                    moved.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// A `[profiles]` table written as its sub-tables only (no empty `[profiles]` header).
fn implicit_table() -> Table {
    let mut table = Table::new();
    table.set_implicit(true);
    table
}

fn not_a_table(dir: &Path) -> Failure {
    Failure::configuration(
        Code::ConfigInvalid,
        format!(
            "{}: `profiles` is not a table",
            dir.join("config.toml").display()
        ),
        "fix the file (see docs/cli.md)",
    )
}

fn profile_table<'a>(doc: &'a mut DocumentMut, name: &str) -> Option<&'a mut Table> {
    doc.get_mut("profiles")?
        .as_table_mut()?
        .get_mut(name)?
        .as_table_mut()
}

/// config.toml as an editable document (comments and layout kept); empty when missing.
fn read_document(dir: &Path) -> Result<DocumentMut, Failure> {
    let text = settings::read_config_text(dir)?.unwrap_or_default();
    // The same checks as every command (unknown keys, types) before anything is changed.
    if !text.is_empty() {
        settings::load_config(dir)?;
    }
    text.parse().map_err(|e: toml_edit::TomlError| {
        Failure::configuration(
            Code::ConfigInvalid,
            format!(
                "{} is not valid: {}",
                dir.join("config.toml").display(),
                e.message()
            ),
            "fix the file (see docs/cli.md)",
        )
    })
}

/// Replaces config.toml crash-safely, readable only by its owner.
fn write_document(dir: &Path, doc: &DocumentMut) -> Result<(), Failure> {
    let path = dir.join("config.toml");
    let failed = io_failure("write", &path, "check the directory's permissions");
    safe_fs::create_private_dir(dir).map_err(&failed)?;
    let temp: PathBuf = dir.join(format!(".config.toml.tmp.{}", std::process::id()));
    let text = zeroize::Zeroizing::new(doc.to_string());
    let result = write_private(&temp, text.as_bytes()).and_then(|()| std::fs::rename(&temp, &path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(failed)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A failure to `action` (write, lock) a file of the config directory.
fn io_failure<'a>(
    action: &'a str,
    path: &'a Path,
    fix: &'a str,
) -> impl Fn(std::io::Error) -> Failure + 'a {
    move |e| {
        Failure::configuration(
            Code::ConfigUnreadable,
            format!("cannot {action} {}: {e}", path.display()),
            fix,
        )
    }
}

/// Serializes edits of config.toml between processes.
fn lock_config(dir: &Path) -> Result<std::fs::File, Failure> {
    let path = dir.join("config.toml.lock");
    let failed = io_failure(
        "lock",
        &path,
        "check the directory's permissions, or wait for the other qonto to finish",
    );
    safe_fs::create_private_dir(dir).map_err(&failed)?;
    safe_fs::lock_exclusive(&path, Duration::from_secs(10)).map_err(failed)
}
