// Package engine runs cache engines (redis-server, valkey-server,
// memcached) as real processes, one per cache node. The reconciler in
// package service depends on the Engines interface; Runner is the process
// implementation and enginetest holds a double for tests. The package
// imports only the standard library and runs on Linux (it reads /proc).
//
// Decisions:
//
//   - Addresses. A node binds the Spec's Address and Port. On Linux every
//     127.0.0.0/8 address is local without configuration, so each node can
//     have its own loopback address and the port the user asked for (6379,
//     11211) without collisions.
//   - Data directories. A node lives in Dir/<Key>/ (Key's slashes make
//     subdirectories): redis' dump.rdb, memcached's items.dump (only
//     between a graceful stop and the next start), engine.log
//     (the engine's stdout and stderr, appended across starts), pid and
//     node.json (engine, binary, address and port, so a node nobody
//     adopted yet can still be stopped).
//   - Processes. Started with exec (no shell) in their own process group,
//     writing their log file themselves, without a parent-death signal: an
//     engine outlives a kill -9 of the server. The pid file is written
//     after the start.
//   - Adoption. Ensure takes over the process the pid file names when it
//     is alive, runs in the node's directory (/proc/<pid>/cwd), its command
//     line names the engine binary and the address and port, and it
//     answers; it is then polled for life every second, as it is no child
//     to wait for. A pid file of a dead process, or naming a process
//     started after the file was written (a reused pid), is stale: removed,
//     and the node started on its data. A live process that is not the
//     node's engine is an error; the runner never runs two engines for one
//     node and never signals a process it cannot identify.
//   - Parameters. redis and valkey get command-line directives; the
//     binary's own CONFIG GET * (probed once per binary on a unix socket)
//     decides which ElastiCache parameters it knows; the rest
//     (reserved-memory, close-on-replica-write, ...) and the directives the
//     runner owns (bind, port, dir, save, maxmemory, cluster-enabled, ...)
//     are skipped with a debug log. ElastiCache's split
//     client-output-buffer-limit-<class>-* parameters become redis' one
//     directive; on/off booleans become yes/no. Apply uses CONFIG SET and
//     reports what redis refuses as immutable (databases) as needing a
//     restart; every memcached parameter needs one.
//   - What survives which restart. Stop, Restart and StopAll keep data:
//     redis gets SHUTDOWN SAVE and the next start loads dump.rdb from the
//     node's directory. memcached's items are dumped by the runner over
//     memcached's own protocol: lru_crawler metadump all lists the keys
//     (URL-encoded, without flags), pipelined meta gets (mg <key> v f t k)
//     read value, client flags and remaining TTL, and items.dump keeps
//     key, key kind (base64 "b" keys stay so), flags, absolute expiry and
//     value; the next start stores them back with quiet meta sets (the
//     remaining TTL; a Unix time past memcached's 30-day limit), skips
//     those that expired meanwhile, and deletes the file. A dump is bounded
//     (20 s, and the stop's deadline less 3 s): a cut-short dump keeps
//     what it read and the log says how much was lost; items the new node
//     refuses (a smaller max_item_size) are logged, the rest restored.
//     memcached's warm restart (-e) is not used: it maps and touches a
//     file of the whole -m size (RSS 529 MB for a cache.t3.micro node,
//     4.6 MB without), and the runner removes such a file left by an
//     earlier version. CAS values and LRU order are not kept. After
//     SIGTERM the runner connects to memcached every 20 ms, which wakes
//     its main loop to exit at once rather than at its next clock tick
//     (up to a second). A crash or kill -9 of an engine loses what was not
//     saved: redis runs with no save points (as an ElastiCache node
//     without backups) and memcached starts empty. A kill -9 of the
//     server loses nothing: the engines keep running and are adopted.
//     Remove deletes the node's directory with its data, dump included.
//   - Users and replication (redis, valkey). Spec.Users and
//     Spec.ReplicaOf are written to redis.conf in the node's directory
//     (0600, every word quoted; Validate refuses control characters, so
//     nothing leaves its line), which redis reads as its first argument:
//     the node is never open when its spec says it is not, and no
//     password is in argv, which ps shows to everyone. The file is
//     rewritten from the spec at every start and by Reconfigure, so
//     neither a client's CONFIG REWRITE nor an old file brings back a
//     user the spec dropped. With Users set, `default` is reset to off
//     unless Users defines it; Users nil is the open `default`.
//   - The runner's own user. elasticache_runner (an underscore, which
//     ElastiCache user names cannot have; Validate refuses it in Users)
//     has +@all on every key and channel and a random password per node,
//     kept in runner.secret (0600) in the node's directory: it outlives a
//     kill -9 of the server, so the runner that adopts the node AUTHs
//     with it. Every runner connection to redis (readiness and health
//     PING, CONFIG SET, SHUTDOWN, Reconfigure) AUTHs as it; redis.conf
//     holds only its hash. Reconfigure never deletes it. A node adopted
//     without the file (started before the runner had a user) is open,
//     and gets the user before it is closed. A client with ACL rights can
//     still lock the runner out: Health then fails, Apply says so, and a
//     stop falls back to SIGTERM, which saves nothing.
//   - Replication. Every node has a replication user
//     (elasticache_replication: PSYNC, REPLCONF, PING) whose password is
//     an HMAC of the node's address under the replication secret
//     (Spec.ReplicationSecret, or replication.secret in the runner's
//     directory); a replica derives its primary's (masteruser,
//     masterauth) and so replicates from a primary that requires AUTH.
//     Derived per primary, the masterauth a replica's +@all users can
//     read opens no other group's node. A replica retries a primary that
//     is not up yet by itself; Reconfigure runs REPLICAOF host port or
//     REPLICAOF NO ONE, which keeps a promoted replica's data.
//   - Adoption and users. What an earlier server set is not known:
//     Ensure of an adopted node brings its users and replication to the
//     spec it is given (ACL SETUSER for each, ACL DELUSER for every user
//     it does not name but the runner's two), and so does Ensure of a
//     running node whose users or replication the spec changed.
package engine
