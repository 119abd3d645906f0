//! The OAuth server's memory: consent challenges, authorization codes, grants and tokens.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::random;

/// A validated authorization request waiting for the user's decision.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: String,
    pub(crate) organization_id: Option<String>,
    pub(crate) registration_id: Option<String>,
    pub(crate) code_challenge: Option<String>,
}

#[derive(Debug)]
struct CodeEntry {
    request: AuthRequest,
    expires_at: SystemTime,
    used: bool,
}

#[derive(Debug)]
struct Grant {
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

#[derive(Debug)]
struct AccessEntry {
    grant: u64,
    expires_at: SystemTime,
}

#[derive(Debug)]
struct RefreshEntry {
    grant: u64,
    expires_at: SystemTime,
    first_used: Option<SystemTime>,
}

/// Token lifetimes, copied from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub(crate) access: Duration,
    pub(crate) refresh: Duration,
    pub(crate) grace: Duration,
    pub(crate) code: Duration,
}

/// Tokens handed out by one issue.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: u64,
    pub(crate) scope: String,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerError {
    Unknown,
    Expired,
    Revoked,
}

/// What a bearer token grants.
#[derive(Debug, Clone)]
pub(crate) struct BearerGrant {
    pub(crate) grant: u64,
    pub(crate) scopes: Vec<String>,
}

/// All OAuth state.
#[derive(Debug, Default)]
pub(crate) struct OAuthStore {
    next_grant: u64,
    challenges: HashMap<String, (AuthRequest, SystemTime)>,
    codes: HashMap<String, CodeEntry>,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, RefreshEntry>,
}

impl OAuthStore {
    /// Remembers a request until the user approves or denies it; returns the challenge id.
    pub(crate) fn add_challenge(&mut self, request: AuthRequest, expires_at: SystemTime) -> String {
        let id = random::id();
        self.challenges.insert(id.clone(), (request, expires_at));
        id
    }

    /// Takes a pending request (single use), if it exists and has not expired.
    pub(crate) fn take_challenge(&mut self, id: &str, now: SystemTime) -> Option<AuthRequest> {
        let (request, expires_at) = self.challenges.remove(id)?;
        (now < expires_at).then_some(request)
    }

    /// Creates an authorization code for an approved request.
    pub(crate) fn add_code(
        &mut self,
        request: AuthRequest,
        now: SystemTime,
        life: Lifetimes,
    ) -> String {
        let code = random::token("ory_ac_");
        self.codes.insert(
            code.clone(),
            CodeEntry {
                request,
                expires_at: now + life.code,
                used: false,
            },
        );
        code
    }

    /// Marks a code used and returns its request; errors describe why it cannot be redeemed.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        now: SystemTime,
    ) -> Result<AuthRequest, &'static str> {
        let entry = self
            .codes
            .get_mut(code)
            .ok_or("the authorization code is unknown")?;
        if entry.used {
            return Err("the authorization code has already been used");
        }
        entry.used = true;
        if now >= entry.expires_at {
            return Err("the authorization code has expired");
        }
        Ok(entry.request.clone())
    }

    /// Creates a grant (the user's consent) and issues its first tokens.
    pub(crate) fn grant(
        &mut self,
        client_id: &str,
        scopes: Vec<String>,
        now: SystemTime,
        life: Lifetimes,
    ) -> Issued {
        self.next_grant += 1;
        let id = self.next_grant;
        self.grants.insert(
            id,
            Grant {
                client_id: client_id.to_owned(),
                scopes,
                revoked: false,
            },
        );
        self.issue(id, now, life)
    }

    fn issue(&mut self, grant: u64, now: SystemTime, life: Lifetimes) -> Issued {
        let scopes = self
            .grants
            .get(&grant)
            .map(|g| g.scopes.clone())
            .unwrap_or_default();
        let access_token = random::token("ory_at_");
        self.access.insert(
            access_token.clone(),
            AccessEntry {
                grant,
                expires_at: now + life.access,
            },
        );
        let refresh_token = scopes.iter().any(|s| s == "offline_access").then(|| {
            let token = random::token("ory_rt_");
            self.refresh.insert(
                token.clone(),
                RefreshEntry {
                    grant,
                    expires_at: now + life.refresh,
                    first_used: None,
                },
            );
            token
        });
        Issued {
            access_token,
            refresh_token,
            expires_in: life.access.as_secs(),
            scope: scopes.join(" "),
        }
    }

    /// Rotates a refresh token: a fresh pair while the token is unused or inside its grace
    /// window; after the window the whole grant is revoked.
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        token: &str,
        now: SystemTime,
        life: Lifetimes,
    ) -> Result<Issued, &'static str> {
        let entry = self
            .refresh
            .get_mut(token)
            .ok_or("the refresh token is unknown")?;
        let grant_id = entry.grant;
        let grant = self
            .grants
            .get(&grant_id)
            .ok_or("the refresh token is unknown")?;
        if grant.client_id != client_id {
            return Err("the refresh token was issued to another client");
        }
        if grant.revoked {
            return Err("the refresh token has been revoked");
        }
        if now >= entry.expires_at {
            return Err("the refresh token has expired");
        }
        match entry.first_used {
            None => entry.first_used = Some(now),
            Some(first) if now < first + life.grace => {}
            Some(_) => {
                self.revoke(grant_id);
                return Err(
                    "the refresh token was already used and its grace period is over; the grant has been revoked",
                );
            }
        }
        Ok(self.issue(grant_id, now, life))
    }

    /// Checks an access token.
    pub(crate) fn bearer(&self, token: &str, now: SystemTime) -> Result<BearerGrant, BearerError> {
        let entry = self.access.get(token).ok_or(BearerError::Unknown)?;
        let grant = self.grants.get(&entry.grant).ok_or(BearerError::Unknown)?;
        if grant.revoked {
            return Err(BearerError::Revoked);
        }
        if now >= entry.expires_at {
            return Err(BearerError::Expired);
        }
        Ok(BearerGrant {
            grant: entry.grant,
            scopes: grant.scopes.clone(),
        })
    }

    /// Scopes of the grant a refresh token belongs to.
    pub(crate) fn refresh_scopes(&self, token: &str) -> Option<Vec<String>> {
        let entry = self.refresh.get(token)?;
        self.grants.get(&entry.grant).map(|g| g.scopes.clone())
    }

    /// Revokes a grant: every access and refresh token of it stops working.
    pub(crate) fn revoke(&mut self, grant: u64) {
        if let Some(g) = self.grants.get_mut(&grant) {
            g.revoked = true;
        }
    }

    /// Revokes the grant a token (access or refresh) belongs to; false if unknown.
    pub(crate) fn revoke_by_token(&mut self, token: &str) -> bool {
        let grant = self
            .access
            .get(token)
            .map(|e| e.grant)
            .or_else(|| self.refresh.get(token).map(|e| e.grant));
        match grant {
            Some(g) => {
                self.revoke(g);
                true
            }
            None => false,
        }
    }
}
