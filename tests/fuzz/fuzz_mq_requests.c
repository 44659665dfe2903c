/*
 * fuzz_mq_requests.c: libFuzzer harness for the whole request path of the
 * AMQP broker: frame parsing, the handshake, every method handler, content
 * assembly, routing, deliveries, acks, confirms, transactions, queue
 * arguments and the message log.
 *
 * One onebox cycle with only the mq module runs in the process for the
 * whole session (queues and exchanges declared by one input are there for
 * the next, as on a real broker); its data dir is a fresh temporary one.
 * Each input is raw bytes from the client's side, protocol header
 * included: the seeds (tests/fuzz/gen_mq_corpus.py) are whole sessions,
 * so that mutations start past the handshake.  The input goes to a fresh
 * loopback connection in pieces whose size its first byte picks, then the
 * socket is half-closed; the reactor runs until the broker has answered
 * and closed.  ASan/UBSan catch memory errors in any handler; the session
 * helper aborts when the broker never closes (a hang) or leaves a
 * connection open afterwards (a leak in the accounting).
 *
 * A publisher that finds no room is blocked and no longer read until
 * there is room (RabbitMQ's memory alarm), so its session would last until
 * room comes, if ever: a hang of the harness, not of the broker (the
 * integration tests cover that path).  Two settings keep every input's
 * messages within the budget: max_message_size is 1 MiB (a content header
 * announcing more gets 406 at once), and since queues outlive their inputs
 * and their messages pile up over a run, every queue is deleted between
 * two inputs once the broker holds more than FUZZ_MQ_KEEP_BYTES.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mq/mq.h"
#include "mq/mq_int.h"
#include "mq/mq_entity.h"
#include "ob_cycle.h"
#include "fuzz_session.h"

#define FUZZ_MQ_KEEP_BYTES  (2 * 1024 * 1024)

static ob_conf_t   fuzz_conf;
static ob_cycle_t  fuzz_cycle;
static mq_t       *fuzz_mq;
static int         fuzz_port;


/* Starts the cycle: the core and the mq module, nothing listening but the
 * broker on a free loopback port (heartbeats off: a session never waits;
 * messages of at most 1 MiB in a 16 MiB budget). */
static void
fuzz_setup(void)
{
    static const ob_module_t *const mods[] = { &mq_module, NULL };
    const ob_conf_section_t *sections[2] = {
        &ob_conf_core_section, mq_module.conf
    };
    static const char *const sets[][2] = {
        { "core.http_port", "0" }, { "core.log_level", "error" },
        { "core.memory_mb", "16" }, { "mq.port", "0" },
        { "mq.heartbeat", "0" }, { "mq.max_message_size", "1048576" }
    };
    char      dir[] = "/tmp/onebox-fuzz-XXXXXX";
    ob_err_t  err;
    mq_t     *mq;
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
            fprintf(stderr, "fuzz_mq_requests: %s\n", err.msg);
            abort();
        }
    }
    if (ob_cycle_init(&fuzz_cycle, &fuzz_conf, mods, &err) != OB_OK
        || ob_cycle_start(&fuzz_cycle, &err) != OB_OK)
    {
        fprintf(stderr, "fuzz_mq_requests: %s\n", err.msg);
        abort();
    }
    mq = fuzz_mq = ob_cycle_module_state(&fuzz_cycle, "mq");
    if (mq == NULL
        || ob_listen_tcp(&fuzz_cycle, &mq_proto, mq, "127.0.0.1", 0,
                         &fuzz_port, &err) != OB_OK)
    {
        abort();
    }
}


/* Deletes every queue once the broker's messages pass FUZZ_MQ_KEEP_BYTES
 * (no connection is open between two inputs), so that the memory alarm
 * is never left on for the next input. */
static void
fuzz_forget_queues(mq_t *mq)
{
    mq_vhost_t *vh;

    mq_flow_check(mq);
    if (mq->mem_bytes < FUZZ_MQ_KEEP_BYTES && !mq->alarm) {
        return;
    }
    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        while (!mq_list_empty(&vh->queue_list)) {
            mq_queue_delete(MQ_ENTRY(vh->queue_list.next, mq_queue_t, link));
        }
    }
    mq_flow_check(mq);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_port == 0) {
        fuzz_setup();
    }
    fuzz_session(&fuzz_cycle, fuzz_port, data, size);
    fuzz_forget_queues(fuzz_mq);
    return 0;
}
