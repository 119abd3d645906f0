//! The store's own small Tokio runtime: every database future runs on it, whichever face
//! (async or blocking) asked, so pooled connections never depend on a caller's runtime.

use std::future::Future;

use tokio::runtime::{Handle, Runtime};

/// One worker thread running the pool's connections and the store's statements.
#[derive(Debug)]
pub(crate) struct Exec {
    runtime: Option<Runtime>,
    handle: Handle,
}

/// The store's runtime is gone (the pool was dropped while an operation ran).
#[derive(Debug)]
pub(crate) struct Ended;

impl Exec {
    pub(crate) fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qonto-store-postgres")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` on the store's runtime and awaits it from any async context.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Ended> {
        self.handle.spawn(future).await.map_err(|_| Ended)
    }

    /// Runs `future` on the store's runtime and blocks this thread until it ends. Safe from
    /// any thread, including one of another runtime (it is blocked, not deadlocked).
    pub(crate) fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Ended> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        drop(self.handle.spawn(async move {
            let _ = done.send(future.await);
        }));
        result.recv().map_err(|_| Ended)
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        // Never blocks (and never panics inside an async context): open connections are
        // closed, and PostgreSQL releases any lock they held.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
