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

use crate::cli::{EnvArg, Global};
use crate::failure::Failure;
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
}

impl Profile {
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

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, Profile>,
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
        check_profile_name(&profile_name)?;
        let profile = load_profile(&config_dir, &profile_name, global.profile.is_some())?;
        let pick =
            |flag: &Option<String>, file: &Option<String>| -> Result<Option<String>, Failure> {
                flag.clone()
                    .or_else(|| file.clone())
                    .map(|v| read_dash(v).map(|s| s.expose().to_owned()))
                    .transpose()
            };
        let secret =
            |flag: &Option<String>, file: &Option<Secret>| -> Result<Option<Secret>, Failure> {
                match flag {
                    Some(value) => read_dash(value.clone()).map(Some),
                    None => Ok(file.clone()),
                }
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
        let api_key = secret(&global.api_key, &profile.api_key)?;
        let login = pick(&global.login, &profile.login)?;
        let secret_key = secret(&global.secret_key, &profile.secret_key)?;
        // Access tokens expire within the hour: never read from the config file.
        let access_token = secret(&global.access_token, &None)?;
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
                client_secret: secret(&global.client_secret, &profile.client_secret)?,
                redirect_uri: pick(&global.redirect_uri, &profile.redirect_uri)?
                    .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned()),
            },
            _ => Credential::Missing,
        };
        Ok(Self {
            kind,
            staging_token: secret(&global.staging_token, &profile.staging_token)?,
            api_base: pick(&global.base_url, &profile.api_base_url)?,
            oauth_base: pick(&global.oauth_base_url, &profile.oauth_base_url)?,
            credential,
            organization_id: pick(&global.organization_id, &profile.organization_id)?,
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
                let key = ApiKey::parse(raw.expose()).map_err(|p| {
                    Failure::credential_format(
                        p.code(),
                        p.to_string(),
                        "copy `login:secret-key` from the web app",
                    )
                })?;
                Ok(builder.api_key(key))
            }
            Credential::AccessToken(raw) => {
                let token = parse_access_token(raw.expose()).map_err(|p| {
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

fn load_profile(dir: &std::path::Path, name: &str, explicit: bool) -> Result<Profile, Failure> {
    let path = dir.join("config.toml");
    let unreadable = |reason: String| {
        Failure::configuration(
            Code::ConfigUnreadable,
            format!("cannot read {}: {reason}", path.display()),
            "create the file with a [profiles.NAME] table, or drop --profile",
        )
    };
    let text = match safe_fs::read_capped(&path, MAX_CONFIG_FILE) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8".into()))?,
        Ok(None) if !explicit => return Ok(Profile::default()),
        Ok(None) => return Err(unreadable("no such file".into())),
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        Failure::configuration(
            Code::ConfigInvalid,
            format!("{} is not valid: {}", path.display(), e.message()),
            "fix the file (see docs/cli.md)",
        )
    })?;
    match file.profiles.get(name) {
        Some(profile) => {
            if profile.holds_secrets() && safe_fs::readable_by_others(&path) {
                eprintln!(
                    "warning: {} holds secrets and can be read by other users; run `chmod 600` on it",
                    path.display()
                );
            }
            Ok(profile.clone())
        }
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
fn read_dash(value: String) -> Result<Secret, Failure> {
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
