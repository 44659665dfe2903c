/*
 * store_persist.h: the store's persistence and replication, as the server
 * files see them: RDB files (store_rdb*.c), the forked child that writes
 * them (store_child.c), SAVE/BGSAVE and the save rules (store_save.c), the
 * append-only file (store_aof*.c), the master side of replication
 * (store_repl.c) and the replica side (store_replica.c).  Each part keeps
 * its state in a struct of its own, defined in its .c file, that hangs off
 * store_t (st->rdb_save, st->aof, st->repl, st->replica); the others reach
 * it only through the functions below.
 *
 * The formats are Redis 7.0's (../shared/reference/redis-persistence.md):
 * RDB version 10, the multi-part AOF of RESP commands, PSYNC replication.
 *
 * How a write travels (Redis's call() -> propagate()):
 *
 *   handler runs -> store_key_changed (dirty++) -> the call ends
 *     -> store_propagate.c: the command as received, or what the handler
 *        asked for instead (store_propagate_cmd), plus the DELs of keys
 *        that expired or were evicted meanwhile; several are wrapped in
 *        MULTI/EXEC; each goes to
 *          store_aof_feed   (buffered; written and, by appendfsync, synced
 *                            before the replies of that loop pass go out)
 *          store_repl_feed  (the backlog and every online replica)
 *
 * Every function here runs on the reactor thread unless it says otherwise.
 */
#ifndef STORE_PERSIST_H
#define STORE_PERSIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ob_core.h"
#include "store_db.h"
#include "store_int.h"       /* store_cmd_t: the command tables */

typedef struct store_s         store_t;
typedef struct store_client_s  store_client_t;
typedef struct store_text_s    store_text_t;     /* INFO's text builder */


/* ======================================================================
 * RDB files (store_rdb.c: format, strings, plain types; store_rdb_load.c:
 * the loader; store_rdb_stream.c: streams).  Pure over a file descriptor:
 * no store_t, so the unit tests and the forked child use them alike.
 * ====================================================================== */

#define STORE_RDB_VERSION  10

/* CRC-64/Jones as Redis computes it (crc64.c): reflected, polynomial
 * 0xad93d23594c935a9, initial value `crc` (0 to start), no final xor.
 * crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca. */
uint64_t store_crc64(uint64_t crc, const void *p, size_t len);

typedef struct store_rdb_save_opts_s {
    int          compress;       /* rdbcompression: LZF strings > 20 bytes */
    int          checksum;       /* rdbchecksum: CRC-64, else 8 zero bytes */
    int          aof_base;       /* AUX aof-base "1" (an AOF's base file) */
    int          freq;           /* write FREQ (0xF9): an LFU policy */
    int          idle;           /* write IDLE (0xF8): an LRU policy */
    int64_t      now_ms;         /* ctime, IDLE's reference */
    size_t       used_mem;       /* AUX used-mem */
    const char  *repl_id;        /* not NULL: an RDB for a replica, with */
    long long    repl_offset;    /*   AUX repl-stream-db, repl-id and */
    int          repl_stream_db; /*   repl-offset */
} store_rdb_save_opts_t;

typedef struct store_rdb_stats_s {
    size_t       keys;           /* keys written, or loaded */
    size_t       expired;        /* loaded: keys dropped as expired */
    uint64_t     bytes;          /* bytes written, or read */
} store_rdb_stats_t;

/*
 * Writes every database of dbs as an RDB v10 file to fd (from its current
 * position), in 64 KiB write(2)s.  Keys that have expired but are not yet
 * deleted are written with their past TTL (the loader drops them).
 * Values use the encodings Redis 7.0 writes: STRING (int or LZF
 * encodings), LIST_QUICKLIST_2, SET_INTSET or SET, HASH_LISTPACK or HASH,
 * ZSET_LISTPACK or ZSET_2, STREAM_LISTPACKS_2.  OB_ERR with err (errno
 * kept) when a write fails.  st (optional) gets the figures.
 */
int store_rdb_save_fd(store_dbs_t *dbs, int fd,
                      const store_rdb_save_opts_t *o,
                      store_rdb_stats_t *st /* OUT */, ob_err_t *err);

/* The same into `path` as Redis does it: "temp-<pid>.rdb" in path's
 * directory, fsync, rename over path, fsync the directory. */
int store_rdb_save_file(store_dbs_t *dbs, const char *path,
                        const store_rdb_save_opts_t *o,
                        store_rdb_stats_t *st /* OUT */, ob_err_t *err);

typedef struct store_rdb_load_opts_s {
    int64_t      now_ms;
    int          drop_expired;   /* a master drops keys whose TTL passed;
                                    a replica and an AOF base keep them */
} store_rdb_load_opts_t;

typedef struct store_rdb_load_info_s {
    store_rdb_stats_t st;
    int          has_repl;       /* AUX repl-id/repl-offset were there */
    char         repl_id[41];
    long long    repl_offset;
    int          repl_stream_db;
    int          aof_base;       /* AUX aof-base was "1" */
    uint64_t     consumed;       /* bytes of fd the RDB took, from where
                                    it started to after the checksum (an
                                    AOF with an RDB preamble goes on
                                    there) */
} store_rdb_load_info_t;

/*
 * Loads an RDB file from fd (its current position; fd may be read past
 * the end of the RDB: `consumed` says where it ended) into dbs, which the
 * caller has emptied.  Accepts versions 1..10, every type id 7.0 loads
 * (0-5, 9-19 but modules), every string and length encoding, a zero
 * checksum; re-picks compact encodings by size as Redis does.
 * A corrupt, truncated or unsupported file: OB_ERR with err saying what
 * and at which byte offset ("Short read or OOM loading DB" style
 * messages are fine, but name the problem); dbs may hold what was loaded
 * before the error (the caller flushes it).  OOM in the arena: OB_ERR.
 */
int store_rdb_load_fd(store_dbs_t *dbs, int fd,
                      const store_rdb_load_opts_t *o,
                      store_rdb_load_info_t *info /* OUT */, ob_err_t *err);


/* ======================================================================
 * The forked child (store_child.c): at most one at a time, as Redis has
 * (BGSAVE, BGREWRITEAOF, a full resync's RDB).
 * ====================================================================== */

typedef enum {
    STORE_CHILD_NONE = 0,
    STORE_CHILD_RDB,             /* BGSAVE, a save rule, a replica's sync */
    STORE_CHILD_AOF              /* BGREWRITEAOF */
} store_child_kind_t;

/* Runs in the child; returns 0 on success.  The child then reports its
 * copy-on-write size (Private_Dirty of /proc/self/smaps) to the parent
 * and _exits. */
typedef int  (*store_child_pt)(store_t *st, void *arg);
/* Runs in the parent, on the loop, once the child was reaped: ok is 1 on
 * exit status 0; cow is the bytes it reported (0 if it died). */
typedef void (*store_child_done_pt)(store_t *st, int ok, size_t cow,
                                    void *arg);

/* Forks.  OB_BUSY when a child already runs; OB_ERR with err when fork
 * fails.  The parent records latest_fork_usec and total_forks. */
int  store_child_start(store_t *st, store_child_kind_t kind, store_child_pt fn,
                       store_child_done_pt done, void *arg, ob_err_t *err);
store_child_kind_t store_child_running(const store_t *st);
pid_t store_child_pid(const store_t *st);
/* Kills the child (SIGUSR1, as Redis: not an error) and reaps it; done is
 * called with ok 0. */
void store_child_kill(store_t *st);
/* Reaps a finished child (the cron calls it every tick). */
void store_child_cron(store_t *st);
int  store_child_init(store_t *st, ob_err_t *err);
void store_child_fini(store_t *st);
/* INFO stats latest_fork_usec, total_forks. */
uint64_t store_child_latest_fork_usec(const store_t *st);
uint64_t store_child_total_forks(const store_t *st);


/* ======================================================================
 * Snapshots (store_save.c): SAVE, BGSAVE, LASTSAVE, save rules, SHUTDOWN,
 * loading at start-up.
 * ====================================================================== */

extern const struct store_cmd_s store_cmds_save[];   /* SAVE BGSAVE LASTSAVE
                                                        SHUTDOWN */
int  store_save_init(store_t *st, ob_err_t *err);
/* Start-up: with appendonly, the AOF (store_aof_load); else the RDB at
 * dir/dbfilename if there is one.  OB_ERR stops start-up with err. */
int  store_save_load(store_t *st, ob_err_t *err);
void store_save_cron(store_t *st);
/* FLUSHALL: kills a snapshot child and, with save rules, saves the empty
 * dataset at once. */
void store_save_flushall(store_t *st);
/* SIGTERM, SHUTDOWN: persists by the configuration (an AOF flush and
 * fsync; an RDB save when save rules exist). */
int  store_save_shutdown(store_t *st, int force_save, int nosave,
                         ob_err_t *err);
void store_save_fini(store_t *st);
void store_save_info(store_t *st, store_text_t *t);   /* rdb_* fields */
/* The MISCONF error when writes must be refused because the last
 * background save failed (stop-writes-on-bgsave-error), else NULL. */
const char *store_save_write_error(const store_t *st);
/* The save options for the current configuration (compression, LFU ...). */
void store_save_rdb_opts(store_t *st, store_rdb_save_opts_t *o /* OUT */);


/* ======================================================================
 * The append-only file (store_aof.c, store_aof_load.c).
 * ====================================================================== */

extern const struct store_cmd_s store_cmds_aof[];    /* BGREWRITEAOF */
int  store_aof_init(store_t *st, ob_err_t *err);
/* Start-up with appendonly yes: the manifest's base, then each incr;
 * an old single appendonly.aof is migrated; a truncated tail is cut by
 * aof-load-truncated.  OB_ERR with err stops start-up. */
int  store_aof_load(store_t *st, ob_err_t *err);
/* Opens (or creates: a base from the dataset) the files at start-up. */
int  store_aof_start(store_t *st, ob_err_t *err);
/* 1 when store_aof_feed takes commands now (the log is on and not
 * loading): propagation copies nothing for a sink that would drop it. */
int  store_aof_wants_feed(const store_t *st);
/* One propagated command in db `dbid` (a SELECT goes first when the db
 * differs from the last one fed). */
void store_aof_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc);
/* Called at the end of every batch a client ran (store_session_read),
 * and wherever a reply is produced outside one: if commands were fed
 * since the buffer was last written, holds c's output (ob_conn_hold_output)
 * until the write (and, with appendfsync always, the fsync) is done at
 * the end of this loop pass. */
void store_aof_hold_reply(store_t *st, store_client_t *c);
/* A client whose replies wait for the AOF went away: forgotten. */
void store_aof_client_closed(store_t *st, store_client_t *c);
void store_aof_cron(store_t *st);
/* Shutdown: writes and fsyncs what is buffered. */
void store_aof_stop(store_t *st);
void store_aof_fini(store_t *st);
void store_aof_info(store_t *st, store_text_t *t);    /* aof_* fields */
/* "MISCONF Errors writing to the AOF file: <strerror>" while the last
 * write or fsync failed, else NULL. */
const char *store_aof_write_error(const store_t *st);
/* CONFIG SET appendonly yes|no: starts (a rewrite builds the base) or
 * stops logging.  NULL, or why not. */
const char *store_aof_set_enabled(store_t *st, int on);
/* The store is being emptied and reloaded (a replica's full sync): the
 * AOF starts over with a rewrite once the load is done. */
void store_aof_dataset_replaced(store_t *st);


/* ======================================================================
 * Replication, master side (store_repl.c): replication ids, the offset,
 * the backlog, the replicas' links, WAIT, ROLE, INFO replication.
 * ====================================================================== */

extern const struct store_cmd_s store_cmds_repl[];   /* REPLCONF PSYNC SYNC
                                                        WAIT ROLE */
int  store_repl_init(store_t *st, ob_err_t *err);
/* 1 when the stream goes anywhere: there is a backlog or a replica. */
int  store_repl_streaming(const store_t *st);
/* One propagated command in db `dbid`: appended (after a SELECT when the
 * stream's db differs) to the backlog and to every replica. */
void store_repl_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc);
/* A replica's own stream: the bytes its master sent, as they came (so
 * offsets agree down a chain); advances master_repl_offset. */
void store_repl_feed_raw(store_t *st, const void *data, size_t len);
/* A replica took its master's history (FULLRESYNC id offset): the ids and
 * offset become the master's, the backlog starts empty at offset. */
void store_repl_set_history(store_t *st, const char *replid,
                            long long offset);
/* +CONTINUE with a new id: the old one becomes the secondary id (valid
 * up to the current offset), the backlog stays, our replicas are
 * dropped. */
void store_repl_adopt_id(store_t *st, const char *replid);
/* REPLICAOF NO ONE: a new replid; the old one stays usable for PSYNC up
 * to the current offset (replid2, second_repl_offset). */
void store_repl_shift_ids(store_t *st);
/* Becoming a replica: every replica of ours is disconnected. */
void store_repl_drop_replicas(store_t *st);
const char *store_repl_id(const store_t *st);
long long   store_repl_offset(const store_t *st);
/* 1 when a snapshot should record the replication history (a master
 * with a backlog, or a replica), with *stream_db the stream's db. */
int  store_repl_save_info(const store_t *st, int *stream_db /* OUT */);
void store_repl_cron(store_t *st);
/* Shutdown: what the replicas have not been sent is flushed. */
void store_repl_stop(store_t *st);
void store_repl_fini(store_t *st);
/* INFO replication, the whole section (calls store_replica_info for a
 * replica's fields). */
void store_repl_info(store_t *st, store_text_t *t);
/* INFO stats: sync_full, sync_partial_ok, sync_partial_err. */
void store_repl_stats(const store_t *st, uint64_t *full, uint64_t *ok,
                      uint64_t *err);
/* A client went away: if it was a replica, it is forgotten. */
void store_repl_client_closed(store_t *st, store_client_t *c);


/* ======================================================================
 * Replication, replica side (store_replica.c): REPLICAOF, the link to the
 * master, the sync, the master's command stream.
 * ====================================================================== */

extern const struct store_cmd_s store_cmds_replica[];  /* REPLICAOF SLAVEOF */
int  store_replica_init(store_t *st, ob_err_t *err);
/* Start-up with replicaof set: connects. */
int  store_replica_start(store_t *st, ob_err_t *err);
/* 1 while the store is a replica. */
int  store_replica_is_replica(const store_t *st);
/* 1 when a write from a normal client must get -READONLY (a replica with
 * replica-read-only yes). */
int  store_replica_refuses_writes(const store_t *st);
void store_replica_cron(store_t *st);
/* CLIENT KILL TYPE master: drops the link to the master (the replica
 * reconnects and asks for a partial resync); 1 when there was one. */
int  store_replica_kill_master_link(store_t *st);
void store_replica_stop(store_t *st);
void store_replica_fini(store_t *st);
/* INFO replication's replica fields, from master_host to
 * replica_announced. */
void store_replica_info(store_t *st, store_text_t *t);


/* ======================================================================
 * Propagation (store_propagate.c): what store_client_call runs after a
 * command, and the deletions that happen outside commands.
 * ====================================================================== */

/* A call begins (nesting: EXEC runs calls inside its own). */
void store_propagate_begin(store_client_t *c);
/* A call ended: at the outermost level, what the call(s) propagated goes
 * to store_aof_feed and store_repl_feed (MULTI/EXEC around several). */
void store_propagate_end(store_client_t *c, uint64_t dirty_before);
/* A key deleted by expiry or eviction (the keyspace's on_del): a DEL is
 * propagated, within the current call when there is one, else alone. */
void store_propagate_del(store_t *st, int dbid, const void *key,
                         size_t nkey);
/* Frees the propagation state (store_fini). */
void store_propagate_fini(store_t *st);
/* Feeds argv in dbid to every sink now (no call in progress). */
void store_propagate_now(store_t *st, int dbid, const ob_str_t *argv,
                         size_t argc);


/* ======================================================================
 * Clients without a connection: the AOF loader's, and the one that runs
 * the master's stream on a replica (store_client.c).
 * ====================================================================== */

/* A client whose replies go nowhere; flags adds STORE_CLIENT_MASTER for
 * the master's stream.  It is not in CLIENT LIST.  NULL on malloc
 * failure.  new: store_client_fake_free. */
store_client_t *store_client_fake_new(store_t *st, unsigned flags);
void            store_client_fake_free(store_client_t *c);
/* Runs argv[0..argc) as one command on c (the dispatcher's checks, then
 * the call); the bytes are borrowed for the call. */
void            store_client_run(store_client_t *c, const ob_str_t *argv,
                                 size_t argc);

#endif /* STORE_PERSIST_H */
