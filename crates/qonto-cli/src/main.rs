//! The `qonto` command: log in to, check and troubleshoot access to the Qonto Business API.
//!
//! Built on the blocking transport `qonto-ureq`; only `mock serve` and `demo` start an async
//! runtime (inside the mock). See `qonto --help` and docs/troubleshooting.md.
#![allow(clippy::print_stderr, reason = "a command-line tool reports on stderr")]

mod auth;
mod cli;
mod commands;
#[cfg(feature = "mock")]
mod demo;
mod doctor;
mod failure;
mod keychain;
mod man;
#[cfg(feature = "mock")]
mod mock;
mod output;
mod pgstore;
mod profile;
mod secret;
mod settings;
mod transport;
mod webhook;

use std::io::Write;
use std::process::ExitCode;

use clap::FromArgMatches;
use clap::parser::ValueSource;

use crate::cli::{
    AccountsCommand, AuthCommand, Cli, ColorArg, Command, MockCommand, OrganizationsCommand,
    Output, SECRET_ARGS,
};
use crate::failure::{Failure, exit};
use crate::output::{finding_json, print_json, write_checklist};
use crate::settings::Resolved;

fn main() -> ExitCode {
    let color = color_from_args();
    apply_color(color);
    let command = cli::command().color(match color {
        ColorArg::Auto => clap::ColorChoice::Auto,
        ColorArg::Always => clap::ColorChoice::Always,
        ColorArg::Never => clap::ColorChoice::Never,
    });
    let matches = match command.try_get_matches() {
        Ok(matches) => matches,
        Err(error) => exit_on_usage_error(&error),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    apply_color(cli.global.color);
    warn_about_secret_flags(&matches);
    let output = cli.global.output;
    let result =
        transport::init(cli.global.verbose, cli.global.ca_cert.as_deref()).and_then(|()| run(cli));
    ExitCode::from(match result {
        Ok(code) => code,
        Err(failure) => {
            report_failure(&failure, output);
            failure.exit_code()
        }
    })
}

/// `--color` as written, read before clap parses the line so that its own help and errors
/// follow it too.
fn color_from_args() -> ColorArg {
    let mut color = ColorArg::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        match value.as_deref() {
            Some("always") => color = ColorArg::Always,
            Some("never") => color = ColorArg::Never,
            Some("auto") => color = ColorArg::Auto,
            _ => {}
        }
    }
    color
}

/// Colours on stdout and stderr: `auto` colours a terminal unless NO_COLOR is set (and
/// CLICOLOR_FORCE forces them), `always` and `never` say it all.
fn apply_color(color: ColorArg) {
    anstream::ColorChoice::write_global(match color {
        ColorArg::Auto => anstream::ColorChoice::Auto,
        ColorArg::Always => anstream::ColorChoice::Always,
        ColorArg::Never => anstream::ColorChoice::Never,
    });
}

/// Prints a command-line error and exits as clap would, but never with a secret in it: clap
/// quotes the argument it could not place, which is the secret itself when a secret flag was
/// written with a space instead of `=` or `:` (`--api-key login SECRET`).
fn exit_on_usage_error(error: &clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        error.exit();
    }
    let mut text = error.render().to_string();
    let args: Vec<String> = std::env::args().collect();
    for (i, arg) in args.iter().enumerate() {
        let secret_flag = SECRET_ARGS
            .iter()
            .map(|id| format!("--{}", id.replace('_', "-")))
            .find(|flag| arg == flag || arg.starts_with(&format!("{flag}=")));
        let Some(flag) = secret_flag else {
            continue;
        };
        // The flag's value and the stray word after it (the likely rest of the secret).
        let value = arg.strip_prefix(&format!("{flag}=")).map(str::to_owned);
        let mut hidden: Vec<&str> = args[i + 1..].iter().take(2).map(String::as_str).collect();
        if let Some(value) = &value {
            hidden.push(value);
        }
        let command = cli::command();
        let is_command = |w: &str| command.get_subcommands().any(|c| c.get_name() == w);
        let secret_like = |w: &&str| w.len() >= 3 && !w.starts_with('-') && !is_command(w);
        for word in hidden.into_iter().filter(secret_like) {
            text = text.replace(word, "[redacted]");
        }
    }
    eprint!("{text}");
    if text.contains("[redacted]") {
        eprintln!(
            "note: a value after a secret flag was hidden; give the secret as one argument \
             (for an API key: --api-key login:secret-key) or through its QONTO_* variable"
        );
    }
    std::process::exit(error.exit_code());
}

/// Secrets typed as flags stay in shell history: say so (the value `-` reads stdin instead).
fn warn_about_secret_flags(matches: &clap::ArgMatches) {
    for id in SECRET_ARGS {
        let typed = matches.value_source(id) == Some(ValueSource::CommandLine);
        if typed && matches.get_one::<String>(id).is_some_and(|v| v != "-") {
            let flag = id.replace('_', "-");
            eprintln!(
                "warning: --{flag} on the command line stays in your shell history; prefer its QONTO_* variable or `--{flag} -` to read it from stdin"
            );
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let output = cli.global.output;
    let resolve = || Resolved::from_global(&cli.global);
    match &cli.command {
        Command::Doctor => Ok(doctor::run(&resolve()?, output)),
        Command::Auth(AuthCommand::Login(args)) => {
            auth::login(&resolve()?, args, output).map(|()| exit::OK)
        }
        Command::Auth(AuthCommand::Status) => auth::status(&resolve()?, output).map(|()| exit::OK),
        Command::Auth(AuthCommand::Refresh) => {
            auth::refresh(&resolve()?, output).map(|()| exit::OK)
        }
        Command::Auth(AuthCommand::Logout { local_only }) => {
            auth::logout(&resolve()?, *local_only, output).map(|()| exit::OK)
        }
        Command::Accounts(AccountsCommand::List) => {
            commands::accounts_list(&resolve()?, output).map(|()| exit::OK)
        }
        Command::Organizations(OrganizationsCommand::List) => {
            commands::organizations_list(&resolve()?, output).map(|()| exit::OK)
        }
        Command::Request(args) => commands::request(&resolve()?, args).map(|()| exit::OK),
        #[cfg(feature = "mock")]
        Command::Mock(MockCommand::Serve(args)) => mock::serve(args, output).map(|()| exit::OK),
        #[cfg(feature = "mock")]
        Command::Demo => demo::run(output),
        #[cfg(not(feature = "mock"))]
        Command::Mock(MockCommand::Serve(_)) | Command::Demo => Err(without_mock()),
        Command::Webhook(command) => webhook::run(command, output).map(|()| exit::OK),
        Command::Profile(command) => profile::run(&cli.global, command).map(|()| exit::OK),
        Command::Completions { shell } => {
            let mut command = cli::command();
            clap_complete::generate(*shell, &mut command, "qonto", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::ManPages { dir } => man::write_pages(dir).map(|()| exit::OK),
    }
}

/// `mock serve` and `demo` in a build without the mock: how to get them.
#[cfg(not(feature = "mock"))]
fn without_mock() -> Failure {
    Failure::configuration(
        qonto_auth_core::Code::MockStartFailed,
        "this qonto was built without the local mock of Qonto (the `mock` feature, on by \
         default), so `mock serve` and `demo` are not in it",
        "install a build with the default features (`cargo install --path crates/qonto-cli`), \
         or use the qonto-mock crate in your own tests",
    )
}

fn report_failure(failure: &Failure, output: Output) {
    match output {
        Output::Json => {
            print_json(&serde_json::json!({"ok": false, "error": finding_json(&failure.0)}))
        }
        Output::Text => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "error:");
            let _ = write_checklist(&mut err, std::slice::from_ref(&failure.0));
        }
    }
}
