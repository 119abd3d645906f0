//! Business API data used by the transports' convenience calls (pure serde types).
//!
//! Fields visible only to some roles are optional: Qonto omits them for under-privileged
//! memberships.

use serde::Deserialize;

/// `GET /v2/organization`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct OrganizationResponse {
    /// The authenticated organization.
    pub organization: Organization,
}

/// An organization and its bank accounts.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Organization {
    /// UUID.
    pub id: Option<String>,
    /// Slug (the API-key login is usually derived from it).
    pub slug: String,
    /// Legal name.
    pub legal_name: Option<String>,
    /// Bank accounts.
    #[serde(default)]
    pub bank_accounts: Vec<BankAccount>,
}

/// A business account.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct BankAccount {
    /// UUID (absent in the organization endpoint's examples).
    pub id: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Display name.
    pub name: String,
    /// IBAN.
    pub iban: Option<String>,
    /// BIC.
    pub bic: Option<String>,
    /// ISO 4217 currency (balance-read permission).
    pub currency: Option<String>,
    /// Balance in cents (balance-read permission).
    pub balance_cents: Option<i64>,
    /// Authorized balance in cents (balance-read permission).
    pub authorized_balance_cents: Option<i64>,
    /// `active`, `closed`, …
    pub status: Option<String>,
    /// Whether this is the main account.
    #[serde(default)]
    pub main: bool,
}

/// One page of `GET /v2/bank_accounts`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct BankAccountsPage {
    /// The accounts on this page.
    pub bank_accounts: Vec<BankAccount>,
    /// Pagination.
    pub meta: PageMeta,
}

/// The `meta` block of paginated lists.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct PageMeta {
    /// This page's number (from 1).
    pub current_page: u32,
    /// The next page, if any.
    pub next_page: Option<u32>,
    /// The previous page, if any.
    #[serde(alias = "previous_page")]
    pub prev_page: Option<u32>,
    /// Number of pages.
    pub total_pages: u32,
    /// Number of items across pages.
    pub total_count: u64,
    /// Items per page.
    pub per_page: u32,
}

impl PageMeta {
    /// The page to fetch after this one; iterates `while current_page < total_pages`, which
    /// also works where `next_page` is absent.
    pub fn following(&self) -> Option<u32> {
        (self.current_page < self.total_pages)
            .then(|| self.next_page.unwrap_or(self.current_page + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_list_shape() {
        let body = r#"{"bank_accounts":[{"id":"a","name":"Main","iban":"FR76","currency":"EUR","balance_cents":10000,"status":"active","main":true,"extra":1}],
            "meta":{"current_page":1,"next_page":2,"prev_page":null,"total_pages":2,"total_count":3,"per_page":2}}"#;
        let page: BankAccountsPage = serde_json::from_str(body).unwrap();
        assert_eq!(page.bank_accounts[0].balance_cents, Some(10000));
        assert_eq!(page.meta.following(), Some(2));
        let last = PageMeta {
            current_page: 2,
            next_page: None,
            prev_page: Some(1),
            total_pages: 2,
            total_count: 3,
            per_page: 2,
        };
        assert_eq!(last.following(), None);
    }

    #[test]
    fn tolerates_omitted_permission_fields() {
        let account: BankAccount = serde_json::from_str(r#"{"name":"Main","main":false}"#).unwrap();
        assert_eq!(account.balance_cents, None);
        let org: OrganizationResponse =
            serde_json::from_str(r#"{"organization":{"slug":"x"}}"#).unwrap();
        assert!(org.organization.bank_accounts.is_empty());
    }
}
