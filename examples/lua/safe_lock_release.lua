-- Safe lock release: delete the lock only if it still holds our token, so a client whose lock
-- expired (and was taken by another) cannot release someone else's lock.
--
-- KEYS[1]  the lock key (set with SET key token NX PX ttl)
-- ARGV[1]  our token
--
-- Returns 1 if the lock was ours and is released, 0 otherwise.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
