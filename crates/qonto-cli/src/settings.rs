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
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{ClientSecret, StagingToken};
use qonto_store::{FileStore, TokenStore};
use qonto_ureq::Client;
use serde::Deserialize;

use crate::cli::{EnvArg, Global};
use crate::failure::Failure;

/// The redirect URI used when none is configured.
pub(crate) const DEFAULT_REDIRECT_URI: &str = "http://localhost:18920/callback";

/// One `[profiles.NAME]` table of `config.toml`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    env: Option<String>,
    staging_token: Option<String>,
    api_key: Option<String>,
    login: Option<String>,
    secret_key: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    api_base_url: Option<String>,
    oauth_base_url: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, Profile>,
}

/// Which credential the configuration selects.
#[derive(Clone)]
pub(crate) enum Credential {
    ApiKey(String),
    AccessToken(String),
    OAuth {
        client_id: String,
        client_secret: Option<String>,
        redirect_uri: String,
    },
    Missing,
}

/// The resolved configuration.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) kind: EnvironmentKind,
    pub(crate) staging_token: Option<String>,
    pub(crate) api_base: Option<String>,
    pub(crate) oauth_base: Option<String>,
    pub(crate) credential: Credential,
    pub(crate) profile: String,
    pub(crate) config_dir: PathBuf,
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
        let config_dir = match &global.config_dir {
            Some(dir) => dir.clone(),
            None => dirs::config_dir()
                .map(|d| d.join("qonto"))
                .unwrap_or_else(|| PathBuf::from(".qonto")),
        };
        let profile_name = global
            .profile
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let profile = load_profile(&config_dir, &profile_name, global.profile.is_some())?;
        let pick =
            |flag: &Option<String>, file: &Option<String>| -> Result<Option<String>, Failure> {
                flag.clone()
                    .or_else(|| file.clone())
                    .map(read_dash)
                    .transpose()
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
        let api_key = pick(&global.api_key, &profile.api_key)?;
        let login = pick(&global.login, &profile.login)?;
        let secret_key = pick(&global.secret_key, &profile.secret_key)?;
        // Access tokens expire within the hour: never read from the config file.
        let access_token = pick(&global.access_token, &None)?;
        let client_id = pick(&global.client_id, &profile.client_id)?;
        let credential = match (api_key, login, secret_key, access_token, client_id) {
            (Some(key), ..) => Credential::ApiKey(key),
            (None, Some(login), Some(secret), ..) => {
                Credential::ApiKey(format!("{login}:{secret}"))
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
                client_secret: pick(&global.client_secret, &profile.client_secret)?,
                redirect_uri: pick(&global.redirect_uri, &profile.redirect_uri)?
                    .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned()),
            },
            _ => Credential::Missing,
        };
        Ok(Self {
            kind,
            staging_token: pick(&global.staging_token, &profile.staging_token)?,
            api_base: pick(&global.base_url, &profile.api_base_url)?,
            oauth_base: pick(&global.oauth_base_url, &profile.oauth_base_url)?,
            credential,
            profile: profile_name,
            config_dir,
        })
    }

    /// Where this profile's OAuth tokens are stored.
    pub(crate) fn token_path(&self) -> PathBuf {
        self.config_dir
            .join("tokens")
            .join(format!("{}.json", self.profile))
    }

    /// The token store of this profile.
    pub(crate) fn store(&self) -> Arc<FileStore> {
        Arc::new(FileStore::new(self.token_path()))
    }

    /// The settings as the core's diagnosis reads them.
    pub(crate) fn settings(&self, stored_tokens: bool) -> Settings<'_> {
        let credential = match &self.credential {
            Credential::ApiKey(raw) => CredentialInput::ApiKey(raw),
            Credential::AccessToken(raw) => CredentialInput::AccessToken(raw),
            Credential::OAuth { .. } if stored_tokens => CredentialInput::StoredOAuth,
            Credential::OAuth { .. } | Credential::Missing => CredentialInput::Missing,
        };
        Settings {
            kind: self.kind,
            staging_token_given: self.staging_token.as_deref(),
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
        let staging = self.staging_token.clone().map(StagingToken::new);
        Environment::new(self.kind, staging, endpoints).map_err(Failure::environment)
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
        OAuthClient::new(client_id, ClientSecret::new(secret), redirect_uri).map_err(|e| {
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
            if let Err(error @ qonto_store::StoreError::Corrupt { .. }) = self.store().load() {
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
        let builder = Client::builder(environment);
        match &self.credential {
            Credential::ApiKey(raw) => {
                let key = ApiKey::parse(raw).map_err(|p| {
                    Failure::credential_format(
                        p.code(),
                        p.to_string(),
                        "copy `login:secret-key` from the web app",
                    )
                })?;
                Ok(builder.api_key(key))
            }
            Credential::AccessToken(raw) => {
                let token = parse_access_token(raw).map_err(|p| {
                    Failure::credential_format(
                        p.code(),
                        p.to_string(),
                        "give the access token alone",
                    )
                })?;
                Ok(builder.access_token(token))
            }
            Credential::OAuth { .. } => {
                let store: Arc<dyn TokenStore> = self.store();
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

fn load_profile(dir: &std::path::Path, name: &str, explicit: bool) -> Result<Profile, Failure> {
    let path = dir.join("config.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(Profile::default());
        }
        Err(e) => {
            return Err(Failure::configuration(
                Code::ConfigUnreadable,
                format!("cannot read {}: {e}", path.display()),
                "create the file with a [profiles.NAME] table, or drop --profile",
            ));
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        Failure::configuration(
            Code::ConfigInvalid,
            format!("{} is not valid: {}", path.display(), e.message()),
            "fix the file (see docs/cli.md)",
        )
    })?;
    match file.profiles.get(name) {
        Some(profile) => Ok(profile.clone()),
        None if !explicit => Ok(Profile::default()),
        None => Err(Failure::configuration(
            Code::ProfileNotFound,
            format!("no profile `{name}` in {}", path.display()),
            "add a [profiles.NAME] table or pick another --profile",
        )),
    }
}

/// A value of `-` is read from the first line of standard input (keeps secrets out of shell
/// history and process listings).
fn read_dash(value: String) -> Result<String, Failure> {
    if value != "-" {
        return Ok(value);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::configuration(
            Code::StdinUnreadable,
            format!("cannot read a secret from stdin: {e}"),
            "pipe the value in",
        )
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
