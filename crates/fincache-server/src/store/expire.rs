//! Active expiry: the cron samples keys with a TTL and deletes the expired ones.
