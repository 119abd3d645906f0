//! The organization data served by the business endpoints.

use serde_json::{Value, json};

/// The organization the mock's credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Organization UUID.
    pub id: String,
    /// Organization slug (also the API-key login in Qonto's examples).
    pub slug: String,
    /// Registered legal name.
    pub legal_name: String,
    /// Registration number.
    pub legal_number: String,
    /// Two-letter country code.
    pub legal_country: String,
    /// Locale of the organization, e.g. `fr`.
    pub locale: String,
    /// Business accounts, in the order they are listed.
    pub bank_accounts: Vec<BankAccount>,
    /// The membership the credentials act as (`GET /v2/membership`).
    pub membership: Membership,
}

/// One business (bank) account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    /// Account UUID (used by `GET /v2/bank_accounts/{id}`).
    pub id: String,
    /// Account slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// IBAN.
    pub iban: String,
    /// BIC.
    pub bic: String,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Balance in cents.
    pub balance_cents: i64,
    /// Authorized balance in cents.
    pub authorized_balance_cents: i64,
    /// Status, e.g. `active`.
    pub status: String,
    /// Whether this is the main account.
    pub main: bool,
    /// Last update, ISO 8601 with milliseconds.
    pub updated_at: String,
}

/// The member of the organization that the credentials act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Membership UUID.
    pub id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Role, e.g. `owner`.
    pub role: String,
}

impl Organization {
    /// A demo organization with three accounts, so that pagination is visible with `per_page=1`.
    pub fn demo() -> Self {
        let org_id = "5f1c0e7a-2b64-4d8e-9a31-7c2f4b9d6e10".to_owned();
        let account = |n: u32, name: &str, cents: i64, main: bool| BankAccount {
            id: format!("9a6e3c2d-41f0-4b7a-8c55-00000000000{n}"),
            slug: format!("demo-org-bank-account-{n}"),
            name: name.to_owned(),
            iban: format!("FR76300040000{n}0000012345678"),
            bic: "QNTOFRP1XXX".to_owned(),
            currency: "EUR".to_owned(),
            balance_cents: cents,
            authorized_balance_cents: cents,
            status: "active".to_owned(),
            main,
            updated_at: format!("2026-01-1{n}T09:30:00.000Z"),
        };
        Self {
            id: org_id,
            slug: "demo-org-1234".to_owned(),
            legal_name: "Demo Widgets SAS".to_owned(),
            legal_number: "123456789".to_owned(),
            legal_country: "FR".to_owned(),
            locale: "fr".to_owned(),
            bank_accounts: vec![
                account(1, "Main account", 1_250_075, true),
                account(2, "Taxes", 420_000, false),
                account(3, "Savings", 9_900_000, false),
            ],
            membership: Membership {
                id: "d3b07384-d9a0-4c1f-8e2b-5a6f7c8d9e01".to_owned(),
                first_name: "Camille".to_owned(),
                last_name: "Durand".to_owned(),
                role: "owner".to_owned(),
            },
        }
    }

    /// The organization as served by `GET /v2/organization`.
    pub(crate) fn to_json(&self) -> Value {
        let accounts: Vec<Value> = self
            .bank_accounts
            .iter()
            .map(|a| a.to_json(&self.id))
            .collect();
        json!({
            "id": self.id,
            "slug": self.slug,
            "legal_name": self.legal_name,
            "legal_number": self.legal_number,
            "legal_country": self.legal_country,
            "locale": self.locale,
            "bank_accounts": accounts,
        })
    }
}

impl Default for Organization {
    fn default() -> Self {
        Self::demo()
    }
}

impl BankAccount {
    /// The account as served by the bank-account endpoints.
    pub(crate) fn to_json(&self, organization_id: &str) -> Value {
        json!({
            "id": self.id,
            "organization_id": organization_id,
            "slug": self.slug,
            "name": self.name,
            "iban": self.iban,
            "bic": self.bic,
            "currency": self.currency,
            "balance": cents_to_units(self.balance_cents),
            "balance_cents": self.balance_cents,
            "authorized_balance": cents_to_units(self.authorized_balance_cents),
            "authorized_balance_cents": self.authorized_balance_cents,
            "status": self.status,
            "main": self.main,
            "updated_at": self.updated_at,
        })
    }
}

impl Membership {
    /// The membership as served by `GET /v2/membership`.
    pub(crate) fn to_json(&self, organization_id: &str) -> Value {
        json!({
            "id": self.id,
            "organization_id": organization_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "role": self.role,
            "status": "active",
        })
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "demo balances are far below 2^52 cents"
)]
fn cents_to_units(cents: i64) -> f64 {
    cents as f64 / 100.0
}
