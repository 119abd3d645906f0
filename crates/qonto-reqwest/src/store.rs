//! Token stores for async code: the adapter running a shared blocking
//! [`qonto_store::TokenStore`] on Tokio's blocking pool, the inline path for memory stores,
//! and the store side of a token attempt's steps.

use std::sync::Arc;

use async_trait::async_trait;
use qonto_auth_core::lifecycle::Stored;
use qonto_store::{AsyncStoreGuard, AsyncTokenStore, StoreError, TokenSet, TokenStore};
use tokio::sync::{mpsc, oneshot};

/// Runs a blocking [`TokenStore`] on [`tokio::task::spawn_blocking`], so its file lock and
/// file I/O never stall the async runtime.
///
/// A lock taken through it lives on one blocking thread for as long as the returned guard
/// exists; `load`, `save` and `clear` are sent to that thread. Dropping the guard (even by
/// cancelling the future that held it) ends the thread and releases the lock.
#[derive(Clone)]
pub struct BlockingStore {
    inner: Arc<dyn TokenStore>,
}

impl BlockingStore {
    /// Wraps a blocking store.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Self { inner: store }
    }
}

impl std::fmt::Debug for BlockingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingStore")
            .field("shared", &self.inner.is_shared())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AsyncTokenStore for BlockingStore {
    async fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        let store = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || store.load())
            .await
            .unwrap_or_else(|_| Err(ended()))
    }

    async fn lock(&self) -> Result<Box<dyn AsyncStoreGuard>, StoreError> {
        let store = Arc::clone(&self.inner);
        let (commands, mut received) = mpsc::channel::<Command>(1);
        let (ready, locked) = oneshot::channel();
        drop(tokio::task::spawn_blocking(move || {
            let mut guard = match store.lock() {
                Ok(guard) => guard,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            if ready.send(Ok(())).is_err() {
                return;
            }
            while let Some(command) = received.blocking_recv() {
                match command {
                    Command::Load(reply) => {
                        let _ = reply.send(guard.load());
                    }
                    Command::Save(tokens, reply) => {
                        let _ = reply.send(guard.save(&tokens));
                    }
                    Command::Clear(reply) => {
                        let _ = reply.send(guard.clear());
                    }
                }
            }
        }));
        locked.await.unwrap_or_else(|_| Err(ended()))?;
        Ok(Box::new(BlockingGuard { commands }))
    }

    fn is_shared(&self) -> bool {
        self.inner.is_shared()
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Command {
    Load(Reply<Option<TokenSet>>),
    Save(Box<TokenSet>, Reply<()>),
    Clear(Reply<()>),
}

/// The async side of a lock held on a blocking thread.
struct BlockingGuard {
    commands: mpsc::Sender<Command>,
}

impl BlockingGuard {
    async fn call<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| ended())?;
        answer.await.unwrap_or_else(|_| Err(ended()))
    }
}

#[async_trait]
impl AsyncStoreGuard for BlockingGuard {
    async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.call(Command::Load).await
    }

    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let tokens = Box::new(tokens.clone());
        self.call(|reply| Command::Save(tokens, reply)).await
    }

    async fn clear(&mut self) -> Result<(), StoreError> {
        self.call(Command::Clear).await
    }
}

/// The blocking task ended early (panicked, or the runtime is shutting down).
fn ended() -> StoreError {
    StoreError::Io {
        action: "blocking task",
        path: String::from("(token store)"),
        source: std::io::Error::other("the token store's blocking task ended early"),
    }
}

/// The async face of a blocking store: a shared one (a file) on the blocking pool, a memory
/// store inline.
pub(crate) fn asynchronous(store: Arc<dyn TokenStore>) -> Arc<dyn AsyncTokenStore> {
    match store.is_shared() {
        true => Arc::new(BlockingStore::new(store)),
        false => Arc::new(InlineStore(store)),
    }
}

/// A blocking store only this process uses (a memory store), called inline: its operations
/// never wait on another process, so they need no blocking-pool hop. Attempts on it neither
/// lock nor re-read it; a save is one short locked write.
pub(crate) struct InlineStore(pub(crate) Arc<dyn TokenStore>);

#[async_trait]
impl AsyncTokenStore for InlineStore {
    async fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.0.load()
    }

    async fn lock(&self) -> Result<Box<dyn AsyncStoreGuard>, StoreError> {
        Ok(Box::new(Self(Arc::clone(&self.0))))
    }

    fn is_shared(&self) -> bool {
        false
    }
}

#[async_trait]
impl AsyncStoreGuard for InlineStore {
    async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.0.load()
    }

    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        self.0.lock()?.save(tokens)
    }

    async fn clear(&mut self) -> Result<(), StoreError> {
        self.0.lock()?.clear()
    }
}

/// The store lock an attempt holds from its `Lock` step to `Done`.
pub(crate) type Held = Option<Box<dyn AsyncStoreGuard>>;

/// Performs an `AttemptStep::Lock`: the lock into `held`, and a read when asked.
pub(crate) async fn lock_and_read(
    store: &dyn AsyncTokenStore,
    read: bool,
    held: &mut Held,
) -> Result<Stored, String> {
    let guard = held.insert(store.lock().await.map_err(|e| e.to_string())?);
    if !read {
        return Ok(Stored::NotRead);
    }
    match guard.load().await {
        Ok(Some(tokens)) => Ok(Stored::Tokens(tokens)),
        Ok(None) => Ok(Stored::Empty),
        Err(error) => Err(error.to_string()),
    }
}

/// Performs an `AttemptStep::Persist`: under the held lock, or in one locked write.
pub(crate) async fn save(
    store: &dyn AsyncTokenStore,
    held: &mut Held,
    tokens: &TokenSet,
) -> Result<(), String> {
    let result = match held {
        Some(guard) => guard.save(tokens).await,
        None => match store.lock().await {
            Ok(mut guard) => guard.save(tokens).await,
            Err(error) => Err(error),
        },
    };
    result.map_err(|e| e.to_string())
}
