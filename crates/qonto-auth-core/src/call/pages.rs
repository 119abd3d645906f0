//! Pagination as a state machine over `meta`, bounded in pages and items.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::response::{ApiResponse, DecodeError, decode};
use crate::model::PageMeta;

/// How far a listing may go before it is stopped with a [`PageError`]: a server that always
/// announces one more page cannot make a client loop or grow its memory without bound.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct PageLimits {
    /// Pages fetched at most (default 1,000).
    pub max_pages: u32,
    /// Items collected at most (default 100,000).
    pub max_items: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            max_pages: 1_000,
            max_items: 100_000,
        }
    }
}

impl PageLimits {
    /// Limits of `max_pages` pages and `max_items` items.
    pub fn new(max_pages: u32, max_items: usize) -> Self {
        Self {
            max_pages,
            max_items,
        }
    }
}

/// Collects a paginated list (`{"<key>": [...], "meta": {...}}`), page after page.
///
/// ```text
///   poll_request ─► Some(path): GET it ─► handle_page ─┐
///        ▲                                             │
///        └─────────────────────────────────────────────┘   None: into_items
/// ```
#[derive(Debug)]
pub struct Pages<T> {
    path: String,
    key: &'static str,
    per_page: u32,
    next: Option<u32>,
    fetched: u32,
    items: Vec<T>,
    limits: PageLimits,
}

impl<T: DeserializeOwned> Pages<T> {
    /// A listing of `path` (no query), whose items are under `key`, `per_page` at a time
    /// (clamped to 1-100).
    pub fn new(path: &str, key: &'static str, per_page: u32) -> Self {
        Self {
            path: path.to_owned(),
            key,
            per_page: per_page.clamp(1, 100),
            next: Some(1),
            fetched: 0,
            items: Vec::new(),
            limits: PageLimits::default(),
        }
    }

    /// Sets the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: PageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The path and query of the next page to GET, or `None` when the listing is complete.
    pub fn poll_request(&self) -> Option<String> {
        let page = self.next?;
        Some(format!(
            "{}?page={page}&per_page={}",
            self.path, self.per_page
        ))
    }

    /// Takes the answer to the last request.
    ///
    /// # Errors
    ///
    /// [`PageError`] when the page cannot be decoded, a limit would be passed, or the next
    /// page does not come after this one.
    pub fn handle_page(&mut self, response: &ApiResponse) -> Result<(), PageError> {
        let Some(requested) = self.next.take() else {
            return Err(PageError::Finished);
        };
        let mut map: Map<String, Value> = decode(&response.body, self.key)?;
        let items: Vec<T> = from_value(map.remove(self.key), self.key)?;
        let meta: PageMeta = from_value(map.remove("meta"), "pagination meta")?;
        if self.items.len().saturating_add(items.len()) > self.limits.max_items {
            return Err(PageError::TooManyItems {
                max: self.limits.max_items,
            });
        }
        self.items.extend(items);
        self.fetched += 1;
        let current = meta.current_page.max(requested);
        match meta.following() {
            None => Ok(()),
            Some(next) if next <= current => Err(PageError::NotAdvancing { current, next }),
            Some(_) if self.fetched >= self.limits.max_pages => Err(PageError::TooManyPages {
                max: self.limits.max_pages,
            }),
            Some(next) => {
                self.next = Some(next);
                Ok(())
            }
        }
    }

    /// The items collected.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

fn from_value<T: DeserializeOwned>(
    value: Option<Value>,
    what: &'static str,
) -> Result<T, DecodeError> {
    serde_json::from_value(value.unwrap_or(Value::Null)).map_err(|e| DecodeError {
        what,
        reason: format!("{:?} error", e.classify()),
    })
}

/// Why a listing stopped.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// A page could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The server announced more pages than the limit.
    #[error("the listing has more than {max} pages; stopped there")]
    TooManyPages {
        /// The limit.
        max: u32,
    },
    /// The pages held more items than the limit.
    #[error("the listing has more than {max} items; stopped there")]
    TooManyItems {
        /// The limit.
        max: usize,
    },
    /// The server pointed back to a page already fetched (or to the same one).
    #[error("the server's next page {next} does not come after page {current}")]
    NotAdvancing {
        /// The page just fetched.
        current: u32,
        /// The page the server pointed to.
        next: u32,
    },
    /// A page was fed after the listing was complete (a driver bug).
    #[error("a page was fed after the listing was complete")]
    Finished,
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn page(items: &str, current: u32, next: Option<u32>, total: u32) -> ApiResponse {
        let next = next.map_or("null".to_owned(), |n| n.to_string());
        let body = format!(
            r#"{{"things":[{items}],"meta":{{"current_page":{current},"next_page":{next},"prev_page":null,"total_pages":{total},"total_count":9,"per_page":2}}}}"#
        );
        ApiResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.into_bytes(),
        }
    }

    #[test]
    fn walks_the_pages_in_order() {
        let mut pages = Pages::<u32>::new("/v2/things", "things", 2);
        assert_eq!(
            pages.poll_request().unwrap(),
            "/v2/things?page=1&per_page=2"
        );
        pages.handle_page(&page("1,2", 1, Some(2), 2)).unwrap();
        assert_eq!(
            pages.poll_request().unwrap(),
            "/v2/things?page=2&per_page=2"
        );
        pages.handle_page(&page("3", 2, None, 2)).unwrap();
        assert_eq!(pages.poll_request(), None);
        assert_eq!(
            pages.handle_page(&page("", 3, None, 3)),
            Err(PageError::Finished)
        );
        assert_eq!(pages.into_items(), [1, 2, 3]);
    }

    #[test]
    fn a_server_announcing_pages_forever_is_stopped() {
        let mut pages =
            Pages::<u32>::new("/v2/things", "things", 2).with_limits(PageLimits::new(5, 1000));
        let mut n = 1;
        let error = loop {
            assert!(n <= 5, "the limit holds");
            match pages.handle_page(&page("1", n, Some(n + 1), u32::MAX)) {
                Ok(()) => n += 1,
                Err(error) => break error,
            }
        };
        assert_eq!(error, PageError::TooManyPages { max: 5 });
        assert_eq!(pages.poll_request(), None, "nothing more is asked for");
    }

    #[test]
    fn items_backwards_pages_and_garbage_are_typed_errors() {
        let mut pages = Pages::<u32>::new("/x", "things", 500).with_limits(PageLimits::new(10, 3));
        assert!(
            pages.poll_request().unwrap().ends_with("per_page=100"),
            "clamped"
        );
        assert_eq!(
            pages.handle_page(&page("1,2,3,4", 1, Some(2), 2)),
            Err(PageError::TooManyItems { max: 3 })
        );
        let mut pages = Pages::<u32>::new("/x", "things", 2);
        assert_eq!(
            pages.handle_page(&page("1", 1, Some(1), 3)),
            Err(PageError::NotAdvancing {
                current: 1,
                next: 1
            })
        );
        let mut pages = Pages::<u32>::new("/x", "things", 2);
        let mut garbage = page("", 1, None, 1);
        garbage.body = b"<html>".to_vec();
        assert!(matches!(
            pages.handle_page(&garbage),
            Err(PageError::Decode(_))
        ));
        let mut pages = Pages::<u32>::new("/x", "things", 2);
        garbage.body = br#"{"things":"no","meta":{}}"#.to_vec();
        assert!(matches!(
            pages.handle_page(&garbage),
            Err(PageError::Decode(_))
        ));
    }
}
