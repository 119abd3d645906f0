//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, shown in `--help` and documented in docs/troubleshooting.md.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  unexpected error
  2  invalid command line
  3  malformed credentials (caught before any request)
  4  configuration problem (environment, hosts, OAuth client)
  5  credentials rejected (401/403, or log in again)
  6  sandbox gate: staging token missing or wrong
  7  network error
  8  server error or rate limit (5xx, 429)

Secrets are best given through environment variables (QONTO_API_KEY, QONTO_SECRET_KEY,
QONTO_ACCESS_TOKEN, QONTO_CLIENT_SECRET, QONTO_STAGING_TOKEN) or `-` to read from stdin:
values typed as flags stay in your shell history.";

/// The command definition, with the manual pages listed after the help.
pub(crate) fn command() -> clap::Command {
    let command = <Cli as clap::CommandFactory>::command();
    let mut pages = String::from("Manual pages (man PAGE):");
    let mut line = pages.len();
    for page in crate::man::page_names(&command) {
        if line + page.len() + 2 > 92 {
            pages.push_str("\n ");
            line = 1;
        }
        pages.push(' ');
        pages.push_str(&page);
        line += page.len() + 1;
    }
    command.after_help(format!("{EXIT_CODES}\n\n{pages}"))
}

/// Log in to, check and troubleshoot access to the Qonto Business API.
#[derive(Debug, Parser)]
#[command(name = "qonto", version, after_help = EXIT_CODES, arg_required_else_help = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Settings shared by every command; each also comes from its `QONTO_*` variable and from the
/// selected profile of the config file, in that order of precedence.
#[derive(Args, Clone, Default)]
pub(crate) struct Global {
    /// Environment: production or sandbox.
    #[arg(long = "env", global = true, env = "QONTO_ENV", value_enum)]
    pub(crate) env: Option<EnvArg>,
    /// Sandbox staging token (from the Developer Portal); `-` reads it from stdin.
    #[arg(
        long,
        global = true,
        env = "QONTO_STAGING_TOKEN",
        hide_env_values = true
    )]
    pub(crate) staging_token: Option<String>,
    /// API key as `login:secret-key`; `-` reads it from stdin.
    #[arg(long, global = true, env = "QONTO_API_KEY", hide_env_values = true)]
    pub(crate) api_key: Option<String>,
    /// Organization login (with --secret-key).
    #[arg(long, global = true, env = "QONTO_LOGIN")]
    pub(crate) login: Option<String>,
    /// API secret key (with --login); `-` reads it from stdin.
    #[arg(long, global = true, env = "QONTO_SECRET_KEY", hide_env_values = true)]
    pub(crate) secret_key: Option<String>,
    /// An OAuth access token, used as is (never refreshed); `-` reads it from stdin.
    #[arg(
        long,
        global = true,
        env = "QONTO_ACCESS_TOKEN",
        hide_env_values = true
    )]
    pub(crate) access_token: Option<String>,
    /// OAuth client id (Developer Portal).
    #[arg(long, global = true, env = "QONTO_CLIENT_ID")]
    pub(crate) client_id: Option<String>,
    /// OAuth client secret; `-` reads it from stdin.
    #[arg(
        long,
        global = true,
        env = "QONTO_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub(crate) client_secret: Option<String>,
    /// OAuth redirect URI registered for the client [default: http://localhost:18920/callback].
    #[arg(long, global = true, env = "QONTO_REDIRECT_URI")]
    pub(crate) redirect_uri: Option<String>,
    /// Business API base URL override (a mock or a proxy).
    #[arg(long, global = true, env = "QONTO_API_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// OAuth base URL override.
    #[arg(long, global = true, env = "QONTO_OAUTH_BASE_URL")]
    pub(crate) oauth_base_url: Option<String>,
    /// The organization API calls act for (User OAuth flow): sent as X-Qonto-Organization-Id
    /// on every API call, and pre-selected by `auth login`.
    #[arg(long, global = true, env = "QONTO_ORGANIZATION_ID")]
    pub(crate) organization_id: Option<String>,
    /// Keep OAuth tokens in this PostgreSQL database (`postgres://user@host:port/database`): the
    /// table of qonto-store-postgres that an application's replicas share, one consent per
    /// connection id (with --connection). Default: this profile's own keychain item or file.
    /// Sealed rows need their keys in QONTO_TOKEN_STORE_KEYS (`ID=BASE64,…`, current first).
    #[arg(
        long,
        global = true,
        env = "QONTO_TOKEN_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) token_store: Option<String>,
    /// The connection id (an organization id, a customer id) whose consent to use in the
    /// --token-store database.
    #[arg(
        long = "connection",
        global = true,
        env = "QONTO_CONNECTION_ID",
        value_name = "ID"
    )]
    pub(crate) connection: Option<String>,
    /// Profile of the config file to use [default: default].
    #[arg(long, global = true, env = "QONTO_PROFILE")]
    pub(crate) profile: Option<String>,
    /// Directory of config.toml and stored tokens [default: the platform's config dir].
    #[arg(long, global = true, env = "QONTO_CONFIG_DIR")]
    pub(crate) config_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub(crate) output: Output,
    /// Keep this profile's secrets and OAuth tokens in files readable only by you (config.toml
    /// and tokens/PROFILE.json) instead of the OS keychain; also `storage = "file"` in the
    /// profile.
    #[arg(
        long,
        global = true,
        env = "QONTO_INSECURE_STORAGE",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub(crate) insecure_storage: bool,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorArg::Auto
    )]
    pub(crate) color: ColorArg,
    /// Show what happens on stderr: each call's span (method, path, status, trace id, token
    /// fingerprint), token refreshes, retries, rate limits; -vv adds every answer, -vvv the
    /// HTTP client's own events. Never a secret.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Trust only the certificate authorities of this PEM file for HTTPS (a TLS-inspecting
    /// proxy, a private CA) instead of Mozilla's roots.
    #[arg(long, global = true, env = "QONTO_CA_CERT", value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

impl Global {
    /// A secret's value as given by its flag or variable, and the variable's name.
    pub(crate) fn secret(&self, name: &str) -> (Option<&String>, &'static str) {
        match name {
            "api_key" => (self.api_key.as_ref(), "QONTO_API_KEY"),
            "secret_key" => (self.secret_key.as_ref(), "QONTO_SECRET_KEY"),
            "client_secret" => (self.client_secret.as_ref(), "QONTO_CLIENT_SECRET"),
            "staging_token" => (self.staging_token.as_ref(), "QONTO_STAGING_TOKEN"),
            _ => (self.access_token.as_ref(), "QONTO_ACCESS_TOKEN"),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, ValueEnum)]
pub(crate) enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

impl std::fmt::Debug for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("Global")
            .field("env", &self.env)
            .field("staging_token", &secret(&self.staging_token))
            .field("api_key", &secret(&self.api_key))
            .field("login", &self.login)
            .field("secret_key", &secret(&self.secret_key))
            .field("access_token", &secret(&self.access_token))
            .field("client_id", &self.client_id)
            .field("client_secret", &secret(&self.client_secret))
            .field("base_url", &self.base_url)
            .field("oauth_base_url", &self.oauth_base_url)
            .field("organization_id", &self.organization_id)
            .field("profile", &self.profile)
            .field("output", &self.output)
            .field("insecure_storage", &self.insecure_storage)
            .finish_non_exhaustive()
    }
}

/// The secret-carrying arguments, by clap id.
pub(crate) const SECRET_ARGS: &[&str] = &[
    "staging_token",
    "api_key",
    "secret_key",
    "access_token",
    "client_secret",
];

#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum EnvArg {
    Production,
    Sandbox,
}

#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, ValueEnum)]
pub(crate) enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the troubleshooting guide: check credentials and settings, call
    /// GET /v2/bank_accounts, diagnose the answer.
    Doctor,
    /// Log in with OAuth, and inspect, refresh or remove the stored tokens.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Business accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Organizations of a User OAuth flow consent.
    #[command(subcommand)]
    Organizations(OrganizationsCommand),
    /// Send an authenticated request, like curl: `qonto request GET /v2/organization`.
    Request(RequestArgs),
    /// Run the local mock of Qonto for your own integration tests.
    #[command(subcommand)]
    Mock(MockCommand),
    /// See what doctor reports for each failure of the troubleshooting guide, against a
    /// built-in mock: no account needed.
    Demo,
    /// Check webhook deliveries: `qonto webhook verify`.
    #[command(subcommand)]
    Webhook(crate::webhook::WebhookCommand),
    /// Named profiles of the config file, and where their secrets are stored.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (roff, one per command) to a directory: for packagers.
    #[command(name = "man-pages", hide = true)]
    ManPages {
        /// The directory (created if missing).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// List the profiles of config.toml.
    List,
    /// Show a profile's settings, which secrets are set and where they are stored (never a
    /// secret's value).
    Show {
        /// The profile [default: --profile, or `default`].
        name: Option<String>,
    },
    /// Add a profile from the settings given as flags or QONTO_* variables: its secrets go
    /// to the OS keychain (to config.toml with --insecure-storage), the rest to config.toml.
    Add {
        /// The new profile's name.
        name: String,
    },
    /// Remove a profile: its table in config.toml, its secrets and its stored tokens (run
    /// `qonto auth logout` first to also revoke the consent).
    Remove {
        /// The profile.
        name: String,
    },
    /// Move a profile's secrets (config.toml) and tokens (tokens/PROFILE.json) to the OS
    /// keychain.
    Migrate {
        /// The profile [default: --profile, or `default`].
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Authorize this machine with OAuth (browser and loopback callback, or paste the URL).
    Login(LoginArgs),
    /// Show the method, environment, token expiry and refresh-token age (no secrets).
    Status,
    /// Refresh the OAuth tokens now.
    Refresh,
    /// Revoke the consent where possible and delete the stored tokens.
    Logout {
        /// Only delete the stored tokens; do not call Qonto.
        #[arg(long)]
        local_only: bool,
    },
}

#[derive(Args, Debug)]
pub(crate) struct LoginArgs {
    /// Print the URL instead of opening a browser.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// Headless: do not listen; paste the URL the browser was redirected to.
    #[arg(long)]
    pub(crate) paste: bool,
    /// Scopes to request.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "offline_access,organization.read"
    )]
    pub(crate) scopes: Vec<String>,
    /// The User OAuth flow (approved applications): one consent for several of your
    /// organizations; adds the `user_organization.read` scope. Name the organization to act
    /// for with `--organization-id` (see `qonto organizations list`).
    #[arg(long)]
    pub(crate) user: bool,
    /// Send a PKCE S256 challenge (not documented by Qonto; off by default).
    #[arg(long)]
    pub(crate) pkce: bool,
    /// Seconds to wait for the browser's callback (1 to 86400).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrganizationsCommand {
    /// List the organizations the user consented for (`GET /v2/user_organizations`).
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountsCommand {
    /// List every business account (all pages).
    List,
}

#[derive(Args, Debug)]
pub(crate) struct RequestArgs {
    /// HTTP method.
    pub(crate) method: String,
    /// Path and query, such as /v2/organization.
    pub(crate) path: String,
    /// JSON body.
    #[arg(long)]
    pub(crate) data: Option<String>,
    /// Extra header, as 'Name: value' (repeatable). Authorization, the staging token and the
    /// SCA headers are set by the command and refused here.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub(crate) headers: Vec<String>,
    /// Query pair, as key=value (repeatable), percent-encoded for you.
    #[arg(long = "query", value_name = "KEY=VALUE")]
    pub(crate) query: Vec<String>,
    /// Idempotency key of this write (default: a fresh UUID v4 for POST, PUT, PATCH and
    /// DELETE). Reuse it only to repeat the same operation within 30 minutes.
    #[arg(long, conflicts_with = "no_idempotency_key")]
    pub(crate) idempotency_key: Option<String>,
    /// Send no idempotency key.
    #[arg(long)]
    pub(crate) no_idempotency_key: bool,
    /// How the user approves a write needing strong customer authentication.
    #[arg(long, value_enum)]
    pub(crate) sca_preference: Option<ScaPreferenceArg>,
    /// How long to wait for the approval, in seconds (1 to 900, the session's 15 minutes).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=900))]
    pub(crate) sca_timeout: Option<u64>,
}

/// `X-Qonto-2fa-Preference`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ScaPreferenceArg {
    /// A notification on the user's paired phone (Qonto's default).
    PairedDevice,
    /// An SMS link to a passkey.
    Passkey,
    /// A one-time code by SMS, read from the terminal or standard input (Embed partners).
    SmsOtp,
    /// The sandbox's simulated decision (`qonto mock serve`: POST /_mock/sca/allow).
    Mock,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MockCommand {
    /// Serve the mock until interrupted.
    Serve(MockArgs),
}

#[derive(Args, Debug)]
pub(crate) struct MockArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Behave like the sandbox: every request needs the staging token.
    #[arg(long)]
    pub(crate) sandbox: bool,
    /// The staging token the sandbox mock expects.
    #[arg(long = "expect-staging-token", default_value = "demo-staging-token")]
    pub(crate) expected_staging_token: String,
    /// How the sandbox gate answers API requests without the staging token.
    #[arg(long, value_enum, default_value_t = GateArg::Html)]
    pub(crate) gate: GateArg,
    /// Treat a staging header in other casing than `X-Qonto-Staging-Token` as missing.
    #[arg(long)]
    pub(crate) strict_header_case: bool,
    /// Approve OAuth authorizations without showing the consent page.
    #[arg(long)]
    pub(crate) auto_approve: bool,
    /// Requests allowed per 10 s window before 429.
    #[arg(long)]
    pub(crate) rate_limit: Option<u64>,
    /// Qonto's documented limits: 1,000 requests per 10 s and 10,000 per 10 min per address,
    /// and 429s after more than 200 401s within an hour.
    #[arg(long)]
    pub(crate) qonto_rate_limits: bool,
    /// Send `Retry-After: SECS` with every 429 (Qonto documents no such header, so none by
    /// default).
    #[arg(long, value_name = "SECS")]
    pub(crate) retry_after: Option<u64>,
    /// Lifetime of the access tokens it issues (`expires_in`), in seconds [default: 3600]:
    /// short-lived tokens make a client refresh within a test.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) access_token_ttl: Option<u64>,
    /// Play a user with no paired device: SCA with the default method answers the token-less
    /// 428 (`sca_not_enrolled`); `--sca-preference mock` or `passkey` still work.
    #[arg(long)]
    pub(crate) sca_no_device: bool,
    /// Decide every SCA session as soon as it opens; without it, decide with
    /// POST /_mock/sca/allow (or deny), or the sandbox's POST /v2/mocked_sca_sessions/TOKEN/allow.
    #[arg(long, value_enum, value_name = "DECISION")]
    pub(crate) sca_auto: Option<ScaDecisionArg>,
}

/// A user's answer to an SCA request, for `mock serve --sca-auto`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum ScaDecisionArg {
    /// Approve.
    Allow,
    /// Refuse.
    Deny,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum GateArg {
    /// 200 with the OneLogin HTML page.
    Html,
    /// 302 to qonto.onelogin.com.
    Redirect,
}
