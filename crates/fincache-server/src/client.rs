//! Per-client state: what a connection's commands read and change (`ClientState`, owned by the
//! connection task) and what other clients may see or act on (`ClientHandle`, shared through the
//! [`ClientRegistry`] for CLIENT LIST/KILL/INFO).

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// What a client's own commands may change; lives in the connection task, no locks.
#[derive(Debug)]
pub struct ClientState {
    pub id: u64,
    /// The selected database.
    pub db: usize,
    pub handle: Arc<ClientHandle>,
    /// Set by QUIT/RESET-style commands: close after the pending replies are written.
    pub close_after_reply: bool,
    pub authenticated: bool,
}

impl ClientState {
    pub fn new(handle: Arc<ClientHandle>) -> Self {
        ClientState {
            id: handle.id,
            db: 0,
            handle,
            close_after_reply: false,
            authenticated: true,
        }
    }
}

/// The part of a client other clients can see (CLIENT LIST) or act on (CLIENT KILL).
#[derive(Debug)]
pub struct ClientHandle {
    pub id: u64,
    pub addr: Option<SocketAddr>,
    pub local_addr: Option<SocketAddr>,
    /// Unix milliseconds of connection.
    pub created_ms: u64,
    /// Unix milliseconds of the last command.
    pub last_interaction_ms: AtomicU64,
    pub info: Mutex<ClientInfo>,
    /// Set to ask the connection task to close; `kill_notify` wakes it.
    pub killed: AtomicBool,
    pub kill_notify: Notify,
}

/// Mutable descriptive fields shown by CLIENT LIST/INFO.
#[derive(Debug, Default, Clone)]
pub struct ClientInfo {
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub db: usize,
    pub last_cmd: String,
    pub resp: u8,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

/// Every connected client, by id (ordered, as CLIENT LIST prints them).
#[derive(Debug, Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    pub fn register(
        &self,
        addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
        now_ms: u64,
    ) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            local_addr,
            created_ms: now_ms,
            last_interaction_ms: AtomicU64::new(now_ms),
            info: Mutex::new(ClientInfo {
                resp: 2,
                ..ClientInfo::default()
            }),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of the handles (no lock held while the caller formats them).
    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }
}
