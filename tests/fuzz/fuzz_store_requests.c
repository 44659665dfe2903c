/*
 * fuzz_store_requests.c: libFuzzer harness for the whole request path of
 * the store: RESP framing, dispatch, every command handler, transactions,
 * blocking, pub/sub.
 *
 * One onebox cycle with the store module runs in the process for the whole
 * session (so keys written by one input are there for the next, as on a
 * real server).  Inputs that would pause every client (CLIENT PAUSE), stop
 * the server (SHUTDOWN), make it a replica, fork it (BGSAVE, BGREWRITEAOF,
 * a replica's SYNC) or write files (SAVE, CONFIG SET appendonly) are
 * skipped: those are the server doing what it was told, not bugs of the
 * request path.  Snapshots are off and the data dir is a fresh temporary
 * one.  Each input is sent on a fresh loopback connection, which
 * is then half-closed; the reactor runs until the server has answered
 * everything and closed.  The input is sent in pieces whose size its first
 * byte picks, so that requests arrive split everywhere.  ASan/UBSan catch memory errors in any handler;
 * the harness itself checks that the server always ends the connection
 * (no hang) and that the cycle's accounting stays consistent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "store/store_srv.h"
#include "store/store.h"
#include "ob_cycle.h"
#include "fuzz_session.h"

static ob_conf_t   fuzz_conf;
static ob_cycle_t  fuzz_cycle;
static int         fuzz_port;


static void
fuzz_setup(void)
{
    static const ob_module_t *const mods[] = { &store_module, NULL };
    const ob_conf_section_t *sections[2] = {
        &ob_conf_core_section, store_module.conf
    };
    static const char *const sets[][2] = {
        { "core.http_port", "0" }, { "core.log_level", "error" },
        { "core.memory_mb", "16" }, { "store.port", "0" },
        { "store.save", "" }
    };
    char      dir[] = "/tmp/onebox-fuzz-XXXXXX";
    ob_err_t  err;
    store_t  *st;
    size_t    i;

    if (ob_conf_init(&fuzz_conf, sections, 2, &err) != OB_OK
        || mkdtemp(dir) == NULL
        || ob_conf_set_text(&fuzz_conf, "core.data_dir", dir, &err) != OB_OK)
    {
        abort();
    }
    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        if (ob_conf_set_text(&fuzz_conf, sets[i][0], sets[i][1], &err)
            != OB_OK)
        {
            abort();
        }
    }
    if (ob_cycle_init(&fuzz_cycle, &fuzz_conf, mods, &err) != OB_OK
        || ob_cycle_start(&fuzz_cycle, &err) != OB_OK)
    {
        fprintf(stderr, "fuzz_store_requests: %s\n", err.msg);
        abort();
    }
    st = ob_cycle_module_state(&fuzz_cycle, "store");
    if (ob_listen_tcp(&fuzz_cycle, &st->proto, st, "127.0.0.1", 0, &fuzz_port,
                      &err) != OB_OK)
    {
        abort();
    }
}


/* 1 when `word` (lower case) occurs in data in any letter case. */
static int
fuzz_has_word(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word), i, k;

    for (i = 0; i + n <= size; i++) {
        for (k = 0; k < n; k++) {
            uint8_t ch = data[i + k];

            if ((ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) != (uint8_t) word[k]) {
                break;
            }
        }
        if (k == n) {
            return 1;
        }
    }
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const skipped[] = {
        "pause", "shutdown", "replicaof", "slaveof", "save", "rewriteaof",
        "sync", "appendonly", "replconf", "wait"
    };
    size_t i;

    if (fuzz_port == 0) {
        fuzz_setup();
    }
    for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
        if (fuzz_has_word(data, size, skipped[i])) {
            return 0;
        }
    }

    fuzz_session(&fuzz_cycle, fuzz_port, data, size);
    return 0;
}
