//! The guard of a connection id's refresh lock: a session-level advisory lock held on one
//! pooled connection, every operation under it run on that connection, and released before
//! the connection goes back to the pool (or the connection closed, so PostgreSQL releases it).

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Object;
use qonto_auth_core::TokenSet;
use qonto_store::{AsyncStoreGuard, StoreError, StoreGuard};

use crate::error::DbFailure;
use crate::pool::{Counters, Shared};
use crate::schema::ROW_FORMAT;
use crate::store::{Encoded, PgStore, RawRow, prepare, read_row};

/// A pooled connection holding (or about to hold) a refresh lock. Dropped without
/// [`return_to_pool`](Self::return_to_pool), it is closed rather than pooled: PostgreSQL then
/// ends its session and releases its locks, so no pooled connection ever holds one.
pub(crate) struct Held {
    object: Option<Object>,
    shared: Arc<Shared>,
}

impl Held {
    pub(crate) fn new(object: Object, shared: Arc<Shared>) -> Self {
        Self {
            object: Some(object),
            shared,
        }
    }

    #[allow(
        clippy::expect_used,
        reason = "the object is only taken by consuming methods"
    )]
    pub(crate) fn client(&self) -> &Object {
        self.object.as_ref().expect("a held connection")
    }

    pub(crate) fn return_to_pool(mut self) {
        drop(self.object.take());
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            Counters::add(&self.shared.counters.discarded);
            drop(Object::take(object));
        }
    }
}

/// What a lock guard owns: the store, the locked connection, and the row read with the lock.
pub(crate) struct GuardCore {
    pub(crate) store: PgStore,
    pub(crate) held: Held,
    pub(crate) prefetched: Option<Result<Option<RawRow>, DbFailure>>,
}

impl GuardCore {
    pub(crate) async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        let row = match self.prefetched.take() {
            Some(row) => row,
            None => read_row(&self.store.shared, self.held.client(), &self.store.id).await,
        };
        self.store.decode(row.map_err(self.store.fail("read"))?)
    }

    pub(crate) async fn save(&mut self, encoded: Encoded) -> Result<(), StoreError> {
        self.prefetched = None;
        let shared = &self.store.shared;
        let client = self.held.client();
        let upsert = prepare(shared, client, &shared.sql.upsert)
            .await
            .map_err(self.store.fail("save"))?;
        let written = shared
            .timed(client.execute(
                &upsert,
                &[
                    &self.store.id.as_str(),
                    &ROW_FORMAT,
                    &encoded.key_id,
                    &encoded.bytes.as_slice(),
                    &encoded.expires_at,
                    &encoded.pending_since,
                ],
            ))
            .await
            .map_err(self.store.fail("save"))?;
        Counters::add(&shared.counters.saves);
        debug_assert_eq!(written, 1);
        Ok(())
    }

    async fn clear(&mut self) -> Result<(), StoreError> {
        self.prefetched = None;
        let shared = &self.store.shared;
        let client = self.held.client();
        let delete = prepare(shared, client, &shared.sql.delete)
            .await
            .map_err(self.store.fail("clear"))?;
        shared
            .timed(client.execute(&delete, &[&self.store.id.as_str()]))
            .await
            .map(drop)
            .map_err(self.store.fail("clear"))
    }

    /// Unlocks, then returns the connection to the pool; on any failure the connection is
    /// closed instead (and PostgreSQL releases the lock).
    pub(crate) async fn release(self) {
        let Self { store, held, .. } = self;
        let unlock = format!("SELECT pg_advisory_unlock({})", store.key);
        let unlocked = store
            .shared
            .timed(held.client().simple_query(&unlock))
            .await
            .ok()
            .and_then(|messages| {
                messages.into_iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(|v| v == "t"),
                    _ => None,
                })
            });
        if unlocked == Some(true) {
            held.return_to_pool();
        }
    }
}

/// The guard handed to a client: both guard traits over one [`GuardCore`], each operation
/// run on the store's runtime. Dropping it releases the lock (in the background).
pub(crate) struct PgGuard {
    shared: Arc<Shared>,
    core: Option<GuardCore>,
}

/// One operation on a guard's core, handed back with the core.
type Done<T> = (GuardCore, Result<T, StoreError>);

impl PgGuard {
    pub(crate) fn new(core: GuardCore) -> Self {
        Self {
            shared: Arc::clone(&core.store.shared),
            core: Some(core),
        }
    }

    fn lost(&self, why: &str) -> StoreError {
        DbFailure::Other(format!("the refresh lock was lost: {why}"))
            .into_store("use the lock", &self.shared.location)
    }

    fn take(&mut self) -> Result<GuardCore, StoreError> {
        self.core
            .take()
            .ok_or_else(|| self.lost("an earlier operation under it was interrupted"))
    }

    fn encode(&self, tokens: &TokenSet) -> Result<Encoded, StoreError> {
        match &self.core {
            Some(core) => core.store.encode(tokens),
            None => Err(self.lost("an earlier operation under it was interrupted")),
        }
    }

    fn finish<T>(&mut self, ran: Result<Done<T>, crate::exec::Ended>) -> Result<T, StoreError> {
        match ran {
            Ok((core, result)) => {
                self.core = Some(core);
                result
            }
            Err(_) => Err(self.lost("the store's runtime stopped")),
        }
    }

    async fn run_async<T, Fut>(
        &mut self,
        op: impl FnOnce(GuardCore) -> Fut,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        Fut: Future<Output = Done<T>> + Send + 'static,
    {
        let core = self.take()?;
        let ran = self.shared.exec.run(op(core)).await;
        self.finish(ran)
    }

    fn run_blocking<T, Fut>(&mut self, op: impl FnOnce(GuardCore) -> Fut) -> Result<T, StoreError>
    where
        T: Send + 'static,
        Fut: Future<Output = Done<T>> + Send + 'static,
    {
        let core = self.take()?;
        let ran = self.shared.exec.block(op(core));
        self.finish(ran)
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            drop(self.shared.exec.handle().spawn(core.release()));
        }
    }
}

#[async_trait]
impl AsyncStoreGuard for PgGuard {
    async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.run_async(|mut core| async move {
            let result = core.load().await;
            (core, result)
        })
        .await
    }

    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let encoded = self.encode(tokens)?;
        self.run_async(|mut core| async move {
            let result = core.save(encoded).await;
            (core, result)
        })
        .await
    }

    async fn clear(&mut self) -> Result<(), StoreError> {
        self.run_async(|mut core| async move {
            let result = core.clear().await;
            (core, result)
        })
        .await
    }
}

impl StoreGuard for PgGuard {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.run_blocking(|mut core| async move {
            let result = core.load().await;
            (core, result)
        })
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let encoded = self.encode(tokens)?;
        self.run_blocking(|mut core| async move {
            let result = core.save(encoded).await;
            (core, result)
        })
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        self.run_blocking(|mut core| async move {
            let result = core.clear().await;
            (core, result)
        })
    }
}
