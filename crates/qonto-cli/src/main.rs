//! The `qonto` command: log in to, check and troubleshoot access to the Qonto Business API.
//!
//! Built on the blocking transport `qonto-ureq`; only `mock serve` and `demo` start an async
//! runtime (inside the mock). See `qonto --help` and docs/troubleshooting.md.
#![allow(clippy::print_stderr, reason = "a command-line tool reports on stderr")]

mod auth;
mod cli;
mod commands;
mod demo;
mod doctor;
mod failure;
mod mock;
mod output;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{AccountsCommand, AuthCommand, Cli, Command, MockCommand, Output, SECRET_ARGS};
use crate::failure::{Failure, exit};
use crate::output::{finding_json, print_json, write_checklist};
use crate::settings::Resolved;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    warn_about_secret_flags(&matches);
    let output = cli.global.output;
    let result = run(cli);
    ExitCode::from(match result {
        Ok(code) => code,
        Err(failure) => {
            report_failure(&failure, output);
            failure.exit_code()
        }
    })
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
        Command::Request(args) => commands::request(&resolve()?, args).map(|()| exit::OK),
        Command::Mock(MockCommand::Serve(args)) => mock::serve(args, output).map(|()| exit::OK),
        Command::Demo => demo::run(output),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(*shell, &mut command, "qonto", &mut std::io::stdout());
            Ok(exit::OK)
        }
    }
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
