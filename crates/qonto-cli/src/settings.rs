//! Resolving flags, `QONTO_*` variables and the config-file profile into one configuration.
//!
//! Precedence: command-line flag, then environment variable (both through clap), then the
//! profile in `<config dir>/config.toml`. `doctor` and every other command resolve through
//! this one path, so the health check never looks at a different configuration.

use qonto_auth_core::Code;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use qonto_auth_core::credentials::{ApiKey, OAuthClient, parse_access_token};
use qonto_auth_core::diagnose::{CredentialInput, Settings};
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind, OrganizationId};
use qonto_auth_core::secret::{ClientSecret, StagingToken};
use qonto_store::{FileStore, TokenStore, safe_fs};
use qonto_ureq::Client;
use serde::Deserialize;
use std::cell::OnceCell;

use crate::cli::{EnvArg, Global};
use crate::failure::Failure;
use crate::keychain::{self, Keychain, KeychainStore};
use crate::secret::Secret;

/// The redirect URI used when none is configured.
pub(crate) const DEFAULT_REDIRECT_URI: &str = "http://localhost:18920/callback";

/// One `[profiles.NAME]` table of `config.toml`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    env: Option<String>,
    staging_token: Option<Secret>,
    api_key: Option<Secret>,
    login: Option<String>,
    secret_key: Option<Secret>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    redirect_uri: Option<String>,
    api_base_url: Option<String>,
    oauth_base_url: Option<String>,
    organization_id: Option<String>,
    storage: Option<StorageSetting>,
}

/// Where a profile keeps its secrets and tokens (`storage` in its table).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StorageSetting {
    /// The OS keychain (the default).
    #[default]
    Keychain,
    /// Files: secrets in config.toml, tokens in `tokens/<profile>.json` (mode 0600).
    File,
}

/// The profile secrets, by their key in config.toml (and their keychain item).
pub(crate) const PROFILE_SECRETS: [&str; 4] =
    ["api_key", "secret_key", "client_secret", "staging_token"];

/// Where a secret in use came from.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum SecretSource {
    Flag,
    Environment,
    ConfigFile,
    Keychain,
}

impl SecretSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Environment => "environment",
            Self::ConfigFile => "config_file",
            Self::Keychain => "keychain",
        }
    }
}

/// Where a profile's OAuth tokens are kept.
pub(crate) enum TokenLocation {
    /// A 0600 file; `legacy` when the profile asks for the keychain but a file from before is
    /// still there (`qonto profile migrate` moves it).
    File { path: PathBuf, legacy: bool },
    /// The OS keychain.
    Keychain(Keychain),
}

impl Profile {
    /// The inline value of a secret key of config.toml.
    pub(crate) fn secret(&self, name: &str) -> Option<&Secret> {
        match name {
            "api_key" => self.api_key.as_ref(),
            "secret_key" => self.secret_key.as_ref(),
            "client_secret" => self.client_secret.as_ref(),
            "staging_token" => self.staging_token.as_ref(),
            _ => None,
        }
    }

    /// Where this profile asks its secrets and tokens to be kept.
    pub(crate) fn storage(&self) -> StorageSetting {
        self.storage.unwrap_or_default()
    }

    /// The settings that are not secrets, by their key in config.toml.
    pub(crate) fn plain(&self) -> [(&'static str, Option<&str>); 7] {
        [
            ("env", self.env.as_deref()),
            ("login", self.login.as_deref()),
            ("client_id", self.client_id.as_deref()),
            ("redirect_uri", self.redirect_uri.as_deref()),
            ("api_base_url", self.api_base_url.as_deref()),
            ("oauth_base_url", self.oauth_base_url.as_deref()),
            ("organization_id", self.organization_id.as_deref()),
        ]
    }

    fn holds_secrets(&self) -> bool {
        [
            &self.staging_token,
            &self.api_key,
            &self.secret_key,
            &self.client_secret,
        ]
        .iter()
        .any(|v| v.is_some())
    }
}

/// `config.toml`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub(crate) profiles: std::collections::BTreeMap<String, Profile>,
}

/// Which credential the configuration selects.
#[derive(Clone)]
pub(crate) enum Credential {
    ApiKey(Secret),
    AccessToken(Secret),
    OAuth {
        client_id: String,
        client_secret: Option<Secret>,
        redirect_uri: String,
    },
    Missing,
}

/// The resolved configuration.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) kind: EnvironmentKind,
    pub(crate) staging_token: Option<Secret>,
    pub(crate) api_base: Option<String>,
    pub(crate) oauth_base: Option<String>,
    pub(crate) credential: Credential,
    /// The organization API calls act for (User OAuth flow).
    pub(crate) organization_id: Option<String>,
    pub(crate) profile: String,
    pub(crate) config_dir: PathBuf,
    /// Secrets and tokens in files rather than the keychain (`--insecure-storage` or the
    /// profile's `storage = "file"`).
    pub(crate) insecure_storage: bool,
    /// Where each secret in use came from.
    pub(crate) secret_sources: Vec<(&'static str, SecretSource)>,
    /// `--token-store` (a PostgreSQL URL; may hold a password), `--connection`, and the keys
    /// of sealed rows: OAuth tokens in a shared database instead of the profile's store.
    pub(crate) shared_store: Option<SharedStore>,
}

/// A PostgreSQL token store shared with an application (see `pgstore`).
#[derive(Clone)]
pub(crate) struct SharedStore {
    pub(crate) url: String,
    pub(crate) connection: Option<String>,
    pub(crate) keys: Option<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("kind", &self.kind)
            .field("profile", &self.profile)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl Resolved {
    /// Resolves the global arguments (already merged with environment variables by clap).
    pub(crate) fn from_global(global: &Global) -> Result<Self, Failure> {
        let config_dir = config_dir(global);
        let profile_name = profile_name(global);
        check_profile_name(&profile_name)?;
        let (profile, in_config) =
            load_profile(&config_dir, &profile_name, global.profile.is_some())?;
        let insecure_storage = global.insecure_storage || profile.storage() == StorageSetting::File;
        // Secrets of a profile kept in the keychain, read only when no flag, variable or
        // inline value gives them (an unreachable keychain then gives none).
        let keychain: OnceCell<Option<Keychain>> = OnceCell::new();
        let from_keychain = |name: &str| -> Option<Secret> {
            if !in_config || insecure_storage {
                return None;
            }
            let keychain = keychain.get_or_init(|| Keychain::open(&config_dir).ok());
            let account = keychain::secret_account(&profile_name, name);
            keychain.as_ref()?.get(&account).ok().flatten()
        };
        let sources = std::cell::RefCell::new(Vec::new());
        let pick =
            |flag: &Option<String>, file: &Option<String>| -> Result<Option<String>, Failure> {
                flag.clone()
                    .or_else(|| file.clone())
                    .map(|v| read_dash(v).map(|s| s.expose().to_owned()))
                    .transpose()
            };
        let secret = |name: &'static str| -> Result<Option<Secret>, Failure> {
            let (flag, variable) = global.secret(name);
            let (value, source) = match (flag, profile.secret(name)) {
                (Some(value), _) => {
                    let from_env = std::env::var(variable).is_ok_and(|v| &v == value);
                    let source = if from_env {
                        SecretSource::Environment
                    } else {
                        SecretSource::Flag
                    };
                    (Some(read_dash(value.clone())?), source)
                }
                (None, Some(inline)) => (Some(inline.clone()), SecretSource::ConfigFile),
                (None, None) => (from_keychain(name), SecretSource::Keychain),
            };
            if value.is_some() {
                sources.borrow_mut().push((name, source));
            }
            Ok(value)
        };
        let kind = match (global.env, &profile.env) {
            (Some(EnvArg::Sandbox), _) => EnvironmentKind::Sandbox,
            (Some(EnvArg::Production), _) => EnvironmentKind::Production,
            (None, Some(name)) => name.parse().map_err(|_| {
                Failure::configuration(
                    Code::UnknownEnvironment,
                    format!("profile `{profile_name}` has env = {name:?}"),
                    "use `production` or `sandbox`",
                )
            })?,
            (None, None) => EnvironmentKind::Production,
        };
        let api_key = secret("api_key")?;
        let login = pick(&global.login, &profile.login)?;
        let secret_key = if api_key.is_none() {
            secret("secret_key")?
        } else {
            None
        };
        // Access tokens expire within the hour: never read from the config file.
        let access_token = global.access_token.clone().map(read_dash).transpose()?;
        let client_id = pick(&global.client_id, &profile.client_id)?;
        let credential = match (api_key, login, secret_key, access_token, client_id) {
            (Some(key), ..) => Credential::ApiKey(key),
            (None, Some(login), Some(secret), ..) => {
                Credential::ApiKey(Secret::new(format!("{login}:{}", secret.expose())))
            }
            (None, Some(_), None, ..) | (None, None, Some(_), ..) => {
                return Err(Failure::credential_format(
                    Code::ApiKeyIncomplete,
                    "--login and --secret-key go together",
                    "give both, or the whole key with --api-key login:secret-key",
                ));
            }
            (None, None, None, Some(token), _) => Credential::AccessToken(token),
            (None, None, None, None, Some(client_id)) => Credential::OAuth {
                client_id,
                client_secret: secret("client_secret")?,
                redirect_uri: pick(&global.redirect_uri, &profile.redirect_uri)?
                    .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned()),
            },
            _ => Credential::Missing,
        };
        let staging_token = secret("staging_token")?;
        Ok(Self {
            kind,
            staging_token,
            api_base: pick(&global.base_url, &profile.api_base_url)?,
            oauth_base: pick(&global.oauth_base_url, &profile.oauth_base_url)?,
            credential,
            organization_id: pick(&global.organization_id, &profile.organization_id)?,
            profile: profile_name,
            config_dir,
            insecure_storage,
            secret_sources: sources.into_inner(),
            shared_store: global.token_store.clone().map(|url| SharedStore {
                url,
                connection: global.connection.clone(),
                keys: std::env::var(crate::pgstore::KEYS_VARIABLE).ok(),
            }),
        })
    }

    /// Where this profile's OAuth tokens are stored in file storage.
    pub(crate) fn token_path(&self) -> PathBuf {
        token_path(&self.config_dir, &self.profile)
    }

    /// Where this profile's OAuth tokens are kept (see [`token_location`]).
    pub(crate) fn token_location(&self) -> Result<TokenLocation, Failure> {
        token_location(&self.config_dir, &self.profile, self.insecure_storage)
    }

    /// The token store of this profile.
    pub(crate) fn store(&self) -> Result<Arc<dyn TokenStore>, Failure> {
        if let Some(shared) = &self.shared_store {
            let (url, keys) = (&shared.url, shared.keys.as_deref());
            return Ok(crate::pgstore::open(url, shared.connection.as_deref(), keys)?.0);
        }
        Ok(match self.token_location()? {
            TokenLocation::File { path, .. } => Arc::new(FileStore::new(path)),
            TokenLocation::Keychain(keychain) => Arc::new(KeychainStore::new(
                keychain,
                &self.config_dir,
                &self.profile,
            )),
        })
    }

    /// The settings as the core's diagnosis reads them.
    pub(crate) fn settings(&self, stored_tokens: bool) -> Settings<'_> {
        let credential = match &self.credential {
            Credential::ApiKey(raw) => CredentialInput::ApiKey(raw.expose()),
            Credential::AccessToken(raw) => CredentialInput::AccessToken(raw.expose()),
            Credential::OAuth { .. } if stored_tokens => CredentialInput::StoredOAuth,
            Credential::OAuth { .. } | Credential::Missing => CredentialInput::Missing,
        };
        Settings {
            kind: self.kind,
            staging_token_given: self.staging_token.as_ref().map(Secret::expose),
            api_base: self.api_base.as_deref(),
            oauth_base: self.oauth_base.as_deref(),
            credential,
        }
    }

    /// The validated environment.
    pub(crate) fn environment(&self) -> Result<Environment, Failure> {
        let documented = Endpoints::documented(self.kind);
        let api = self
            .api_base
            .as_deref()
            .unwrap_or(documented.api().as_str());
        let oauth = self
            .oauth_base
            .as_deref()
            .unwrap_or(documented.oauth().as_str());
        let endpoints = Endpoints::new(api, oauth).map_err(Failure::environment)?;
        let staging = self
            .staging_token
            .as_ref()
            .map(|s| StagingToken::new(s.expose()));
        let environment =
            Environment::new(self.kind, staging, endpoints).map_err(Failure::environment)?;
        match &self.organization_id {
            None => Ok(environment),
            Some(id) => match OrganizationId::parse(id) {
                Ok(id) => Ok(environment.with_organization_id(id)),
                Err(error) => Err(Failure::configuration(
                    Code::OrganizationIdInvalid,
                    error.to_string(),
                    "copy the id from `qonto organizations list`",
                )),
            },
        }
    }

    /// The OAuth client of this configuration.
    pub(crate) fn oauth_client(&self) -> Result<OAuthClient, Failure> {
        let Credential::OAuth {
            client_id,
            client_secret,
            redirect_uri,
        } = &self.credential
        else {
            return Err(Failure::configuration(
                Code::OauthNotConfigured,
                "no OAuth client configured",
                "set --client-id and --client-secret (or QONTO_CLIENT_ID and QONTO_CLIENT_SECRET)",
            ));
        };
        let secret = client_secret.clone().ok_or_else(|| {
            Failure::configuration(
                Code::ClientSecretMissing,
                "no OAuth client secret",
                "set QONTO_CLIENT_SECRET",
            )
        })?;
        OAuthClient::new(client_id, ClientSecret::new(secret.expose()), redirect_uri).map_err(|e| {
            Failure::configuration(
                Code::OauthClientInvalid,
                e.to_string(),
                "check the values in the Developer Portal",
            )
        })
    }

    /// A client for the API with this configuration's credential.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        if let Credential::OAuth { .. } = self.credential {
            // The client would start as "not logged in"; say what is really wrong.
            if let Err(error @ qonto_store::StoreError::Corrupt { .. }) = self.store()?.load() {
                return Err(Failure::configuration(
                    Code::TokenStoreUnreadable,
                    error.to_string(),
                    "run `qonto auth login` to replace it, or `qonto auth logout --local-only` to remove it",
                ));
            }
        }
        self.client_replacing_store()
    }

    /// A client even when the token file is corrupt (for `auth login` and `auth logout`, which
    /// replace or remove it).
    pub(crate) fn client_replacing_store(&self) -> Result<Client, Failure> {
        let environment = self.environment()?;
        let builder = crate::transport::configure(Client::builder(environment));
        match &self.credential {
            Credential::ApiKey(raw) => {
                let key = ApiKey::parse(raw.expose()).map_err(|p| {
                    Failure::credential_format(
                        p.code(),
                        p.to_string(),
                        "copy `login:secret-key` from the web app",
                    )
                })?;
                builder.api_key(key).map_err(Failure::from)
            }
            Credential::AccessToken(raw) => {
                let token = parse_access_token(raw.expose()).map_err(|p| {
                    Failure::credential_format(
                        p.code(),
                        p.to_string(),
                        "give the access token alone",
                    )
                })?;
                builder.access_token(token).map_err(Failure::from)
            }
            Credential::OAuth { .. } => {
                let store = self.store()?;
                builder
                    .oauth(self.oauth_client()?, store)
                    .map_err(Failure::from)
            }
            Credential::Missing => Err(Failure::credential_format(
                Code::NoCredentials,
                "no credentials configured",
                "give an API key (QONTO_API_KEY) or OAuth client (QONTO_CLIENT_ID, QONTO_CLIENT_SECRET) and run `qonto auth login`",
            )),
        }
    }
}

/// Profile names become file names (`tokens/NAME.json`): letters, digits, `-`, `_` and `.`,
/// 1 to 64 of them, not starting with a dot.
pub(crate) fn check_profile_name(name: &str) -> Result<(), Failure> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        return Ok(());
    }
    Err(Failure::configuration(
        Code::ProfileNameInvalid,
        format!(
            "the profile name {:?} is not allowed",
            crate::output::one_line(name)
        ),
        "use 1 to 64 letters, digits, `-`, `_` or `.`, not starting with a dot",
    ))
}

/// The largest config file read.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// The config directory: `--config-dir`, `QONTO_CONFIG_DIR` or the platform's.
pub(crate) fn config_dir(global: &Global) -> PathBuf {
    match &global.config_dir {
        Some(dir) => dir.clone(),
        None => dirs::config_dir()
            .map(|d| d.join("qonto"))
            .unwrap_or_else(|| PathBuf::from(".qonto")),
    }
}

/// The selected profile's name: `--profile`, `QONTO_PROFILE` or `default`.
pub(crate) fn profile_name(global: &Global) -> String {
    global
        .profile
        .clone()
        .unwrap_or_else(|| "default".to_owned())
}

/// Where a profile's OAuth tokens are stored in file storage.
pub(crate) fn token_path(config_dir: &std::path::Path, profile: &str) -> PathBuf {
    config_dir.join("tokens").join(format!("{profile}.json"))
}

/// Where a profile's OAuth tokens are kept: a file when asked for (or left from before, until
/// migrated), else the OS keychain, and an error with the fix when there is none.
pub(crate) fn token_location(
    config_dir: &std::path::Path,
    profile: &str,
    insecure_storage: bool,
) -> Result<TokenLocation, Failure> {
    let path = token_path(config_dir, profile);
    if insecure_storage {
        return Ok(TokenLocation::File {
            path,
            legacy: false,
        });
    }
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(TokenLocation::File { path, legacy: true });
    }
    Keychain::open(config_dir)
        .map(TokenLocation::Keychain)
        .map_err(|e| keychain_unavailable(profile, &e))
}

/// The OS keychain is needed and there is none: what to do.
pub(crate) fn keychain_unavailable(profile: &str, error: &keychain::KeychainError) -> Failure {
    Failure::configuration(
        Code::KeychainUnavailable,
        format!(
            "profile `{profile}` keeps its secrets in the OS keychain, and there is none here: {error}"
        ),
        "use the keychain of a desktop session (Linux: the kernel key retention service, keyutils; \
         macOS: the Keychain; Windows: the Credential Manager), or keep them in files readable \
         only by you: --insecure-storage (QONTO_INSECURE_STORAGE=1) or storage = \"file\" in the profile",
    )
}

fn unreadable(path: &std::path::Path, reason: &str) -> Failure {
    Failure::configuration(
        Code::ConfigUnreadable,
        format!("cannot read {}: {reason}", path.display()),
        "create the file with a [profiles.NAME] table, or drop --profile",
    )
}

/// Reads `config.toml` of `dir`: `None` when there is none.
pub(crate) fn load_config(dir: &std::path::Path) -> Result<Option<ConfigFile>, Failure> {
    let path = dir.join("config.toml");
    let Some(text) = read_config_text(dir)? else {
        return Ok(None);
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        Failure::configuration(
            Code::ConfigInvalid,
            format!("{} is not valid: {}", path.display(), e.message()),
            "fix the file (see docs/cli.md)",
        )
    })
}

/// The text of `config.toml` of `dir`: `None` when there is none.
pub(crate) fn read_config_text(dir: &std::path::Path) -> Result<Option<String>, Failure> {
    let path = dir.join("config.toml");
    match safe_fs::read_capped(&path, MAX_CONFIG_FILE) {
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| unreadable(&path, "not UTF-8")),
        Ok(None) => Ok(None),
        Err(e) => Err(unreadable(&path, &e.to_string())),
    }
}

/// The profile `name` and whether config.toml has it.
fn load_profile(
    dir: &std::path::Path,
    name: &str,
    explicit: bool,
) -> Result<(Profile, bool), Failure> {
    let path = dir.join("config.toml");
    let file = match load_config(dir)? {
        Some(file) => file,
        None if !explicit => return Ok((Profile::default(), false)),
        None => return Err(unreadable(&path, "no such file")),
    };
    match file.profiles.get(name) {
        Some(profile) => {
            if profile.holds_secrets() && safe_fs::readable_by_others(&path) {
                eprintln!(
                    "warning: {} holds secrets and can be read by other users; run `chmod 600` on it",
                    path.display()
                );
            }
            Ok((profile.clone(), true))
        }
        None if !explicit => Ok((Profile::default(), false)),
        None => Err(Failure::configuration(
            Code::ProfileNotFound,
            format!("no profile `{name}` in {}", path.display()),
            "add a [profiles.NAME] table or pick another --profile",
        )),
    }
}

/// A value of `-` is read from the first line of standard input (keeps secrets out of shell
/// history and process listings).
pub(crate) fn read_dash(value: String) -> Result<Secret, Failure> {
    if value != "-" {
        return Ok(Secret::new(value));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::configuration(
            Code::StdinUnreadable,
            format!("cannot read a secret from stdin: {e}"),
            "pipe the value in",
        )
    })?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()))
}
