//! `ExecCtx`: what a handler sees while it runs.

use crate::client::ClientState;
use crate::server::Server;
use crate::store::Db;
use fincache_resp::ReplyEncoder;
use std::sync::Arc;

pub struct ExecCtx<'a> {
    pub server: &'a Arc<Server>,
    pub client: &'a mut ClientState,
    pub out: &'a mut ReplyEncoder,
    /// The command's clock: one reading per command, so a command sees one instant (as Redis's
    /// `server.mstime` during a call).
    pub now_ms: u64,
    /// The LRU clock to stamp touched keys with.
    pub lru: u32,
}

impl<'a> ExecCtx<'a> {
    /// The client's selected database.
    #[inline]
    pub fn db(&self) -> &'a Db {
        let server: &'a Server = self.server;
        server.keyspace.db(self.client.db)
    }
}
